"""Committers with in-memory fakes of the kafka-python producer and consumer."""

from __future__ import annotations

from typing import Any

import pytest

from scorer.delivery import AtLeastOnceCommitter, DeliveryError, ExactlyOnceCommitter, OutMessage
from scorer.offsets import Ready


class FakeFuture:
    def __init__(self, error: Exception | None = None) -> None:
        self.exception = error

    def succeeded(self) -> bool:
        return self.exception is None


class FakeProducer:
    def __init__(self, fail_send: bool = False, fail_commit: bool = False) -> None:
        self.log: list[Any] = []
        self.fail_send = fail_send
        self.fail_commit = fail_commit

    def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> FakeFuture:
        self.log.append(("send", topic, key))
        return FakeFuture(RuntimeError("broker said no") if self.fail_send else None)

    def flush(self, timeout: float | None = None) -> None:
        self.log.append(("flush",))

    def begin_transaction(self) -> None:
        self.log.append(("begin",))

    def send_offsets_to_transaction(self, offsets: Any, meta: Any) -> None:
        self.log.append(("offsets", {tp: o.offset for tp, o in offsets.items()}, meta))

    def commit_transaction(self) -> None:
        if self.fail_commit:
            raise RuntimeError("fenced")
        self.log.append(("commit_tx",))

    def abort_transaction(self) -> None:
        self.log.append(("abort",))


class FakeConsumer:
    def __init__(self) -> None:
        self.committed: list[dict[Any, int]] = []

    def commit(self, offsets: Any) -> None:
        self.committed.append({tp: o.offset for tp, o in offsets.items()})

    def group_metadata(self) -> str:
        return "meta"


def _ready() -> dict[str, Ready[OutMessage]]:
    return {
        "p0": Ready([OutMessage("acc", b"a", b"{}", kind="accept", label="code"),
                     OutMessage(None, b"b", b"{}", kind="reject", label="code")], 7),
        "p1": Ready([OutMessage("dlq", b"c", b"x", kind="dead", label="invalid_json")], 3),
    }


def test_at_least_once_sends_flushes_then_commits() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    AtLeastOnceCommitter(prod, cons).deliver(_ready())
    assert prod.log == [("send", "acc", b"a"), ("send", "dlq", b"c"), ("flush",)]
    assert cons.committed == [{"p0": 7, "p1": 3}]  # rejected topic disabled: nothing sent


def test_at_least_once_does_not_commit_when_a_send_failed() -> None:
    prod, cons = FakeProducer(fail_send=True), FakeConsumer()
    with pytest.raises(DeliveryError, match="sends failed"):
        AtLeastOnceCommitter(prod, cons).deliver(_ready())
    assert cons.committed == []


def test_exactly_once_is_one_transaction_with_the_offsets() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    ExactlyOnceCommitter(prod, cons).deliver(_ready())
    kinds = [e[0] for e in prod.log]
    assert kinds == ["begin", "send", "send", "offsets", "commit_tx"]
    assert prod.log[3] == ("offsets", {"p0": 7, "p1": 3}, "meta")
    assert cons.committed == []  # offsets go through the transaction only


def test_exactly_once_aborts_on_failure() -> None:
    prod, cons = FakeProducer(fail_commit=True), FakeConsumer()
    with pytest.raises(DeliveryError, match="transaction failed"):
        ExactlyOnceCommitter(prod, cons).deliver(_ready())
    assert prod.log[-1] == ("abort",)


def test_nothing_to_deliver_is_a_no_op() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    AtLeastOnceCommitter(prod, cons).deliver({})
    ExactlyOnceCommitter(prod, cons).deliver({})
    assert prod.log == [] and cons.committed == []
