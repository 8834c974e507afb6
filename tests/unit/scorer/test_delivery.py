"""Committers with in-memory fakes of the kafka-python producer and consumer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from kafka.errors import MessageSizeTooLargeError, ProducerFencedError

from mira.contracts import H_ERROR, H_ORIGIN
from scorer.committers import AtLeastOnceCommitter, ExactlyOnceCommitter
from scorer.delivery import (
    Entry,
    FatalDeliveryError,
    Held,
    Limits,
    OutMessage,
)

LIMIT = 10_000
META = SimpleNamespace(generation_id=3, member_id="m-1", state="stable")


class FakeFuture:
    def __init__(self, error: Exception | None = None) -> None:
        self.exception = error
        self.is_done = True

    def succeeded(self) -> bool:
        return self.exception is None


class FakeProducer:
    def __init__(
        self, fail: dict[bytes, Exception] | None = None, fail_commit: Exception | None = None
    ) -> None:
        self.log: list[Any] = []
        self.fail = dict(fail or {})
        self.fail_commit = fail_commit

    def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> FakeFuture:
        if len(value) > LIMIT * 2:  # what kafka-python's own size check raises
            raise MessageSizeTooLargeError("too big for max_request_size")
        self.log.append(("send", topic, key))
        return FakeFuture(self.fail.pop(key, None) if key is not None else None)

    def flush(self, timeout: float | None = None) -> None:
        self.log.append(("flush",))

    def begin_transaction(self) -> None:
        self.log.append(("begin",))

    def send_offsets_to_transaction(self, offsets: Any, meta: Any) -> None:
        self.log.append(("offsets", {tp: o.offset for tp, o in offsets.items()}, meta))

    def commit_transaction(self) -> None:
        if self.fail_commit is not None:
            raise self.fail_commit
        self.log.append(("commit_tx",))

    def abort_transaction(self) -> None:
        self.log.append(("abort",))


class FakeConsumer:
    def __init__(self) -> None:
        self.committed: list[dict[Any, int]] = []

    def commit(self, offsets: Any) -> None:
        self.committed.append({tp: o.offset for tp, o in offsets.items()})


def _held() -> dict[str, Held]:
    return {
        "p0": Held(
            1,
            [
                Entry(
                    6, OutMessage("acc", b"a", b"{}", kind="accept", label="code", origin="in/0/6")
                ),
                Entry(7, OutMessage(None, b"b", b"{}", kind="reject", label="code")),
            ],
        ),
        "p1": Held(1, [Entry(3, OutMessage("dlq", b"c", b"x", kind="dead", label="invalid_json"))]),
    }


def alo(prod: FakeProducer, cons: FakeConsumer) -> AtLeastOnceCommitter:
    return AtLeastOnceCommitter(prod, cons, Limits(LIMIT), "dlq", 5.0)


def test_at_least_once_sends_flushes_then_commits() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    result = alo(prod, cons).deliver(_held(), META)
    assert prod.log == [("send", "acc", b"a"), ("send", "dlq", b"c"), ("flush",)]
    assert cons.committed == [{"p0": 8, "p1": 4}]  # rejected topic disabled: nothing sent
    assert result.done == {"p0": 2, "p1": 1} and result.error is None


def test_a_failed_send_commits_the_prefix_and_is_resent_alone() -> None:
    prod, cons = FakeProducer(fail={b"a": RuntimeError("broker down")}), FakeConsumer()
    held = _held()
    result = alo(prod, cons).deliver(held, META)
    assert result.done == {"p1": 1} and "broker down" in str(result.error)
    assert cons.committed == [{"p1": 4}]
    prod.log.clear()
    result = alo(prod, cons).deliver({"p0": held["p0"]}, META)  # what KafkaIO holds again
    assert prod.log == [("send", "acc", b"a"), ("flush",)]  # acked outputs never sent twice
    assert result.done == {"p0": 2} and cons.committed[-1] == {"p0": 8}


class SizeRefusing(FakeProducer):
    """The broker refuses key ``a`` for its size; an idempotent producer then fails every
    batch in flight with the same error (here: key ``c`` too, as collateral)."""

    def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> FakeFuture:
        self.log.append(("send", topic, key))
        self.in_flight = getattr(self, "in_flight", 0) + 1
        big = key == b"a" and value != b""
        return FakeFuture(MessageSizeTooLargeError("record too large") if big else None)

    def flush(self, timeout: float | None = None) -> None:
        self.log.append(("flush",))


def test_a_size_error_makes_suspects_and_only_the_culprit_becomes_a_stub() -> None:
    prod, cons = SizeRefusing(), FakeConsumer()
    held = _held()
    first = alo(prod, cons).deliver(held, META)
    assert first.done == {"p1": 1} and "too large" in str(first.error)
    a = held["p0"].entries[0]
    assert a.suspect and not a.acked
    renewed: list[int] = []
    committer = alo(prod, cons)
    committer.renew = lambda: renewed.append(1)
    second = committer.deliver({"p0": held["p0"]}, META)  # the suspect alone, then its stub
    assert second.done == {"p0": 2} and renewed == [1]
    headers = dict(a.msg.headers)
    assert a.msg.topic == "dlq" and a.msg.value == b"" and a.msg.kind == "dead"
    assert headers[H_ERROR] == b"output_too_large" and headers[H_ORIGIN] == b"in/0/6"


def test_outputs_larger_than_the_request_size_are_stubbed_before_sending() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    big = Entry(0, OutMessage("acc", b"k", b"x" * (LIMIT + 1), kind="accept", origin="in/0/0"))
    huge = Entry(1, OutMessage("dlq", b"h", b"y" * (3 * LIMIT), kind="dead", origin="in/0/1"))
    alo(prod, cons).deliver({"p0": Held(1, [big, huge])}, META)
    assert [m[1] for m in prod.log if m[0] == "send"] == ["dlq", "dlq"]
    assert big.msg.value == b"" and huge.msg.value == b""


def test_a_failed_offset_commit_keeps_the_acks() -> None:
    prod = FakeProducer()

    class Flaky(FakeConsumer):
        def commit(self, offsets: Any) -> None:
            raise RuntimeError("rebalance in progress")

    held = _held()
    result = alo(prod, Flaky()).deliver(held, META)
    assert result.done == {} and "rebalance" in str(result.error)
    assert all(e.acked for h in held.values() for e in h.entries)


def eos(prod: FakeProducer, cons: FakeConsumer) -> ExactlyOnceCommitter:
    return ExactlyOnceCommitter(prod, cons, Limits(LIMIT), "dlq", 5.0)


def test_exactly_once_is_one_transaction_with_the_offsets() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    result = eos(prod, cons).deliver(_held(), META)
    kinds = [e[0] for e in prod.log]
    assert kinds == ["begin", "send", "send", "offsets", "commit_tx"]
    assert prod.log[3] == ("offsets", {"p0": 8, "p1": 4}, META)
    assert cons.committed == [] and result.done == {"p0": 2, "p1": 1}


def test_exactly_once_refuses_a_commit_without_group_generation() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    for meta in (
        SimpleNamespace(generation_id=-1, member_id="m"),
        SimpleNamespace(generation_id=2, member_id=""),
    ):
        result = eos(prod, cons).deliver(_held(), meta)
        assert result.done == {} and "KIP-447" in str(result.error)
    assert prod.log == []


def test_exactly_once_aborts_on_failure_and_is_fatal_when_fenced() -> None:
    prod, cons = FakeProducer(fail_commit=RuntimeError("coordinator moved")), FakeConsumer()
    result = eos(prod, cons).deliver(_held(), META)
    assert prod.log[-1] == ("abort",) and result.done == {}
    assert "coordinator moved" in str(result.error)
    fenced = FakeProducer(fail_commit=ProducerFencedError("another instance"))
    with pytest.raises(FatalDeliveryError, match="fenced"):
        eos(fenced, cons).deliver(_held(), META)


def test_nothing_to_deliver_is_a_no_op() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    alo(prod, cons).deliver({}, META)
    assert prod.log == [] and cons.committed == []


def test_a_topic_smaller_than_the_request_size_lowers_the_limit() -> None:
    prod, cons = FakeProducer(), FakeConsumer()
    committer = AtLeastOnceCommitter(prod, cons, Limits(LIMIT, {"acc": 1000}), "dlq", 5.0)
    entry = Entry(0, OutMessage("acc", b"k", b"x" * 2000, kind="accept", origin="in/0/0"))
    committer.deliver({"p0": Held(1, [entry])}, META)
    assert (
        entry.msg.topic == "dlq"
        and b"what acc takes" in dict(entry.msg.headers)["mira-error-detail"]
    )
