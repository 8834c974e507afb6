"""KafkaIO's commit bookkeeping (held batches, retries, revocation) with fake clients."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.structs import MemberState

from scorer.committers import Delivered
from scorer.delivery import DeliveryError, Held, OutMessage
from scorer.kafka_io import KafkaIO
from scorer.offsets import OffsetTracker


class FakeCommitter:
    def __init__(self) -> None:
        self.fail = False
        self.delivered: list[dict[str, tuple[list[bytes], int]]] = []

    def deliver(self, held: dict[str, Held], meta: Any) -> Delivered:
        if self.fail:
            return Delivered({}, "broker down")
        self.delivered.append(
            {
                tp: ([e.msg.value for e in h.entries], h.entries[-1].offset + 1)
                for tp, h in held.items()
            }
        )
        return Delivered({tp: len(h.entries) for tp, h in held.items()})


def _io(state: str = MemberState.STABLE) -> KafkaIO:
    io = KafkaIO.__new__(KafkaIO)
    io.tracker = OffsetTracker()
    io._held = {}
    io._lock = threading.Lock()
    io._assigned = set()
    io._lag_labels = {}
    io.committer = FakeCommitter()  # type: ignore[assignment]
    meta = SimpleNamespace(state=state, generation_id=1, member_id="m")
    io.consumer = SimpleNamespace(group_metadata=lambda: meta)
    io.producer = SimpleNamespace()
    return io


def _done(io: KafkaIO, tp: str, offset: int, value: bytes) -> Any:
    token = io.tracker.start(tp, offset)
    io.tracker.complete(token, OutMessage("t", None, value))
    return token


def test_commit_delivers_contiguous_prefix_only() -> None:
    io = _io()
    _done(io, "p0", 0, b"a")
    io.tracker.start("p0", 1)  # still being scored
    _done(io, "p0", 2, b"c")
    assert io.commit() == 1
    assert io.committer.delivered == [{"p0": ([b"a"], 1)}]  # type: ignore[attr-defined]


def test_failed_delivery_is_retried_in_order_with_newer_work() -> None:
    io = _io()
    _done(io, "p0", 0, b"a")
    io.committer.fail = True  # type: ignore[attr-defined]
    with pytest.raises(DeliveryError):
        io.commit()
    _done(io, "p0", 1, b"b")
    io.committer.fail = False  # type: ignore[attr-defined]
    assert io.commit() == 2
    assert io.committer.delivered == [{"p0": ([b"a", b"b"], 2)}]  # type: ignore[attr-defined]


def test_nothing_is_committed_while_the_group_rebalances() -> None:
    io = _io(MemberState.REBALANCING)
    _done(io, "p0", 0, b"a")
    assert io.commit() == 0
    assert io.committer.delivered == []  # type: ignore[attr-defined]
    assert "p0" in io._held


def test_revoked_partitions_are_abandoned_uncommitted() -> None:
    io = _io()
    _done(io, "p0", 0, b"a")
    _done(io, "p1", 0, b"x")
    late = io.tracker.start("p1", 1)
    io.committer.fail = True  # type: ignore[attr-defined]
    with pytest.raises(DeliveryError):
        io.commit()  # both partitions now held
    io.on_revoked(["p1"], lost=False)
    assert io.tracker.complete(late, OutMessage("t", None, b"y")) is False
    io.committer.fail = False  # type: ignore[attr-defined]
    io.commit()
    assert io.committer.delivered == [{"p0": ([b"a"], 1)}]  # type: ignore[attr-defined]


def test_failed_batch_of_a_reassigned_partition_is_not_retried() -> None:
    io = _io()
    _done(io, "p0", 0, b"old")

    class RevokeDuringDelivery(FakeCommitter):
        def deliver(self, held: dict[str, Held], meta: Any) -> Delivered:
            io.on_revoked(["p0"], lost=False)  # rebalance while the batch is in flight
            _done(io, "p0", 0, b"new")  # re-assigned: a new epoch starts from offset 0
            return Delivered({}, "generation changed")

    io.committer = RevokeDuringDelivery()  # type: ignore[assignment]
    with pytest.raises(DeliveryError):
        io.commit()
    io.committer = FakeCommitter()  # type: ignore[assignment]
    io.commit()
    assert io.committer.delivered == [{"p0": ([b"new"], 1)}]  # type: ignore[attr-defined]


def test_a_partly_committed_cycle_keeps_only_the_rest() -> None:
    io = _io()
    for i, v in enumerate((b"a", b"b", b"c")):
        _done(io, "p0", i, v)

    class FirstTwo(FakeCommitter):
        def deliver(self, held: dict[str, Held], meta: Any) -> Delivered:
            return Delivered({"p0": 2}, "third send failed")

    io.committer = FirstTwo()  # type: ignore[assignment]
    with pytest.raises(DeliveryError):
        io.commit()
    assert [e.msg.value for e in io._held["p0"].entries] == [b"c"]


def _lag_series() -> dict[tuple[str, str], float]:
    from mira import metrics

    return {
        (m.labels["topic"], m.labels["partition"]): m.value
        for family in metrics.CONSUMER_LAG.collect()
        for m in family.samples
    }


def test_a_revoked_partition_loses_its_lag_gauge() -> None:
    from kafka.structs import TopicPartition

    io = _io()
    tps = [TopicPartition("lagtest", p) for p in (0, 1)]
    high = {tps[0]: 10, tps[1]: 7}
    io.consumer = SimpleNamespace(
        assignment=lambda: set(tps), highwater=high.get, position=lambda tp, timeout_ms: 4
    )
    io.on_assigned(tps)
    io.update_lag()
    assert {k: v for k, v in _lag_series().items() if k[0] == "lagtest"} == {
        ("lagtest", "0"): 6,
        ("lagtest", "1"): 3,
    }
    io.on_revoked([tps[1]], lost=False)
    assert ("lagtest", "1") not in _lag_series(), "a stale gauge would be summed twice"
    io.update_lag()  # the consumer still lists it (revoked meanwhile): no gauge comes back
    assert ("lagtest", "1") not in _lag_series() and ("lagtest", "0") in _lag_series()
    io.on_revoked([tps[0]], lost=True)
    assert not [k for k in _lag_series() if k[0] == "lagtest"]


def test_an_unreachable_broker_is_waited_for_not_fatal() -> None:
    """kafka-python 3 raises from ``poll`` while the coordinator cannot be reached (a broker
    outage): a retriable error is an empty poll, anything else still propagates."""
    from kafka.errors import KafkaConnectionError

    io = _io()

    def refused(timeout_ms: int) -> Any:
        raise KafkaConnectionError("111 ECONNREFUSED")

    io.consumer.poll = refused  # type: ignore[attr-defined]
    assert io.poll(10) == []

    def broken(timeout_ms: int) -> Any:
        raise ValueError("a bug")

    io.consumer.poll = broken  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="a bug"):
        io.poll(10)
