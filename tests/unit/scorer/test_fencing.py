"""A fenced static consumer is replaced within a budget; other fatal errors still end the scorer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError

from scorer.confluent_io import ConfluentIO
from scorer.delivery import FatalDeliveryError
from scorer.fencing import WINDOW_S, FenceBudget, fenced_member
from tests.unit.scorer.test_confluent_io import P0, P1, _done, _io

FENCED_TEXT = (
    "Fatal error: Broker: Static consumer fenced by other consumer with same group.instance.id"
)


def _fatal(code: int, text: str) -> Any:
    err = KafkaError(code, text, fatal=True)
    return SimpleNamespace(error=lambda: err)


def _polling(io: ConfluentIO, *msgs: Any) -> list[Any]:
    """Give ``io`` a consumer whose consume returns ``msgs``; returns the consumers it makes."""
    made: list[Any] = []

    def subscribe() -> None:
        io._consumer = SimpleNamespace(consume=lambda n, timeout: [], close=lambda: None)
        io.consumer = io._consumer  # type: ignore[assignment]
        made.append(io._consumer)

    io._subscribe = subscribe  # type: ignore[method-assign]
    io._consumer.consume = lambda n, timeout: list(msgs)
    io._consumer.close = lambda: None
    return made


def test_the_fenced_text_and_code_are_recognised() -> None:
    assert fenced_member(KafkaError(KafkaError._FATAL, FENCED_TEXT, fatal=True))
    assert fenced_member(KafkaError(KafkaError.FENCED_INSTANCE_ID, "fenced"))
    assert not fenced_member(KafkaError(KafkaError._FATAL, "Fatal error: SASL failed", fatal=True))


def test_the_budget_refills_after_its_window() -> None:
    now = [0.0]
    budget = FenceBudget(2, clock=lambda: now[0])
    assert budget.take() and budget.take() and not budget.take()
    now[0] = WINDOW_S + 1
    assert budget.take()
    assert not FenceBudget(0).take()


def test_a_fenced_consumer_is_replaced_and_its_work_dropped() -> None:
    io = _io()
    io._assigned = {P0, P1}
    _done(io, P0, 0, b"a")
    io.tracker.start(P1, 0)
    made = _polling(io, _fatal(KafkaError._FATAL, FENCED_TEXT))
    assert io.poll(10) == []
    assert len(made) == 1 and io.committer.consumer is made[0]  # type: ignore[attr-defined]
    assert io.tracker.partitions() == [] and io._assigned == set() and not io._closing


def test_a_fence_that_keeps_coming_back_ends_the_scorer() -> None:
    io = _io()  # a budget of 2
    made = _polling(io, _fatal(KafkaError._FATAL, FENCED_TEXT))
    io.poll(10)
    made[-1].consume = lambda n, timeout: [_fatal(KafkaError._FATAL, FENCED_TEXT)]
    io.poll(10)
    made[-1].consume = lambda n, timeout: [_fatal(KafkaError._FATAL, FENCED_TEXT)]
    with pytest.raises(FatalDeliveryError, match=r"group\.instance\.id"):
        io.poll(10)


def test_any_other_fatal_consumer_error_ends_the_scorer() -> None:
    io = _io()
    _polling(io, _fatal(KafkaError._FATAL, "Fatal error: something else"))
    with pytest.raises(FatalDeliveryError, match="something else"):
        io.poll(10)
