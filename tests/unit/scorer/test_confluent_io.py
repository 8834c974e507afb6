"""ConfluentIO's bookkeeping and its librdkafka adapters, with fake clients (no broker)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import TopicPartition as RdPartition
from kafka.structs import OffsetAndMetadata, TopicPartition

from mira.settings import MiraSettings
from scorer import confluent_clients as cc
from scorer.committers import Delivered, TransactionStuck
from scorer.confluent_clients import consumer_config, producer_config
from scorer.confluent_io import ConfluentIO
from scorer.confluent_lag import LagGauge
from scorer.delivery import TOO_LARGE, DeliveryError, Held, OutMessage, fatal
from scorer.fencing import FenceBudget
from scorer.offsets import OffsetTracker
from tests.unit.scorer.test_kafka_io import FakeCommitter

P0, P1 = TopicPartition("in", 0), TopicPartition("in", 1)


def _io(delivery: str = "at-least-once", drain_s: float = 1.0) -> ConfluentIO:
    io = ConfluentIO.__new__(ConfluentIO)
    io._settings = MiraSettings(scorer={"delivery": delivery, "revoke_drain_s": drain_s})
    io.tracker = OffsetTracker()
    io._held = {}
    io._lock = threading.Lock()
    io._assigned = set()
    io._closing = False
    io._paused = False
    io.committer = FakeCommitter()  # type: ignore[assignment]
    io._delivering = False
    io._stash = []
    io.producer = SimpleNamespace(fatal=None, hung=False)  # type: ignore[assignment]
    io._consumer = SimpleNamespace(
        memberid=lambda: "m-1", consumer_group_metadata=lambda: "cgm", poll=lambda timeout: None
    )
    io._lag = LagGauge(lambda: io._consumer)
    io._fences = FenceBudget(2)
    return io


def _done(io: ConfluentIO, tp: Any, offset: int, value: bytes) -> None:
    io.tracker.complete(io.tracker.start(tp, offset), OutMessage("t", None, value))


def _rd(*tps: TopicPartition) -> list[RdPartition]:
    return [RdPartition(tp.topic, tp.partition) for tp in tps]


def test_revocation_finishes_in_flight_work_and_commits_it_first() -> None:
    """librdkafka calls on_revoke on the polling thread: the revoked partition's documents in
    flight complete (on the event loop, here a thread), are committed, then the partition goes."""
    io = _io()
    _done(io, P0, 0, b"a")
    late = io.tracker.start(P0, 1)
    _done(io, P1, 0, b"x")
    finisher = threading.Timer(0.2, lambda: io.tracker.complete(late, OutMessage("t", None, b"b")))
    finisher.start()
    t0 = time.monotonic()
    io._on_revoke(None, _rd(P0))
    assert 0.15 < time.monotonic() - t0 < 0.9
    assert io.committer.delivered == [{P0: ([b"a", b"b"], 2)}]  # type: ignore[attr-defined]
    assert io.tracker.partitions() == [P1]  # the other partition's work stays
    assert io.commit() == 1


def test_revocation_waits_at_most_revoke_drain_s() -> None:
    io = _io(drain_s=0.1)
    _done(io, P0, 0, b"a")
    late = io.tracker.start(P0, 1)  # never completes
    io._on_revoke(None, _rd(P0))
    assert io.committer.delivered == [{P0: ([b"a"], 1)}]  # type: ignore[attr-defined]
    assert io.tracker.complete(late, OutMessage("t", None, b"b")) is False  # abandoned


def test_a_lost_assignment_commits_nothing() -> None:
    io = _io()
    _done(io, P0, 0, b"a")
    io._on_lost(None, _rd(P0))
    assert io.committer.delivered == []  # type: ignore[attr-defined]
    assert io.tracker.partitions() == []


def test_a_failed_revocation_commit_is_abandoned_not_kept() -> None:
    io = _io()
    _done(io, P0, 0, b"a")
    io.committer.fail = True  # type: ignore[attr-defined]
    io._on_revoke(None, _rd(P0))
    assert io._held == {} and io.tracker.partitions() == []


def test_exactly_once_meta_names_the_member() -> None:
    io = _io("exactly-once")
    seen: list[Any] = []

    class Capture(FakeCommitter):
        def deliver(self, held: dict[Any, Held], meta: Any) -> Delivered:
            seen.append(meta)
            return super().deliver(held, meta)

    io.committer = Capture()  # type: ignore[assignment]
    _done(io, P0, 0, b"a")
    io.commit()
    assert seen[0] == cc.GroupMeta("cgm", "m-1", 0)


# ---------------------------------------------------------------- the adapters
def _err(code: int, fatal_: bool = False) -> Any:
    return SimpleNamespace(
        code=lambda: code, name=lambda: f"E{code}", str=lambda: "why", fatal=lambda: fatal_
    )


def test_errors_are_named_as_the_committers_expect() -> None:
    assert fatal(cc.translate(_err(KafkaError.PRODUCER_FENCED)))
    assert fatal(cc.translate(_err(KafkaError._FENCED)))
    assert type(cc.translate(_err(KafkaError.MSG_SIZE_TOO_LARGE))).__name__ in TOO_LARGE
    assert isinstance(cc.translate(_err(KafkaError._TIMED_OUT)), TransactionStuck)
    assert isinstance(cc.translate(_err(KafkaError._MSG_TIMED_OUT)), cc.DeliveryFailed)


class FakeRd:
    """librdkafka's producer: ``fail`` maps a topic to the produce() error code."""

    def __init__(self) -> None:
        self.fail: dict[str, int] = {}
        self.full = 0
        self.pending: list[Any] = []

    def produce(self, topic: str, value: bytes, key: Any, headers: Any, on_delivery: Any) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("queue full")
        if topic in self.fail:
            raise KafkaException(KafkaError(self.fail[topic]))
        self.pending.append(on_delivery)

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        for cb in self.pending:
            cb(None, None)
        self.pending = []
        return 0


def _producer() -> tuple[cc.Producer, FakeRd]:
    producer = cc.Producer.__new__(cc.Producer)
    producer._p, producer.timeout_s, producer.fatal, producer.hung = FakeRd(), 1.0, None, False
    return producer, producer._p  # type: ignore[return-value]


def test_send_returns_a_future_the_flush_completes() -> None:
    producer, rd = _producer()
    rd.full = 2  # the local queue is full twice: served, then accepted
    future = producer.send("out", b"v", b"k", [])
    assert not future.is_done
    producer.flush(1.0)
    assert future.is_done and future.succeeded()


def test_a_size_refusal_raises_the_name_the_committers_stub() -> None:
    producer, rd = _producer()
    rd.fail["out"] = KafkaError.MSG_SIZE_TOO_LARGE
    with pytest.raises(Exception) as info:
        producer.send("out", b"v" * 10, None, [])
    assert type(info.value).__name__ in TOO_LARGE


def test_a_fatal_delivery_report_marks_the_producer_for_replacement() -> None:
    producer, _ = _producer()
    future = cc.Future(producer)
    future(_err(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, fatal_=True), None)
    assert future.is_done and not future.succeeded() and producer.fatal == "why"


def test_offsets_convert_to_librdkafka_partitions() -> None:
    (tp,) = cc.to_partitions({P1: OffsetAndMetadata(42, "", -1)})
    assert (tp.topic, tp.partition, tp.offset) == ("in", 1, 42)


def test_consumer_commit_reports_a_partition_error() -> None:
    failed = SimpleNamespace(
        topic="in", partition=0, offset=5, error=KafkaError(KafkaError.REBALANCE_IN_PROGRESS)
    )
    rd = SimpleNamespace(commit=lambda offsets, asynchronous: [failed], assignment=lambda: _rd(P0))
    consumer = cc.Consumer(rd, lambda: None)
    with pytest.raises(cc.DeliveryFailed):
        consumer.commit({P0: OffsetAndMetadata(5, "", -1)})


def test_partitions_lost_meanwhile_are_not_committed() -> None:
    """Rebalance events are served first; a partition no longer assigned is skipped (a stale
    member's commit would be refused, and fatal for a static member)."""
    served, committed = [], []
    rd = SimpleNamespace(
        commit=lambda offsets, asynchronous: committed.extend(offsets) or [],
        assignment=lambda: _rd(P1),
    )
    cc.Consumer(rd, lambda: served.append(1)).commit(
        {P0: OffsetAndMetadata(5, "", -1), P1: OffsetAndMetadata(7, "", -1)}
    )
    assert served == [1] and [(t.partition, t.offset) for t in committed] == [(1, 7)]


def test_a_transactional_call_that_never_returns_is_given_up() -> None:
    producer, _ = _producer()
    release = threading.Event()
    with pytest.raises(TransactionStuck):
        producer._bounded(-4.9, lambda: release.wait(5))  # given up after 0.1 s
    release.set()
    assert producer.hung


def test_a_revocation_served_during_a_delivery_abandons_instead_of_nesting() -> None:
    io = _io()
    _done(io, P0, 0, b"a")
    io._delivering = True
    io._on_revoke(None, _rd(P0))
    assert io.committer.delivered == [] and io.tracker.partitions() == []  # type: ignore[attr-defined]


def test_a_message_polled_while_serving_events_comes_back_with_the_next_poll() -> None:
    io = _io()
    msg = SimpleNamespace(
        error=lambda: None,
        topic=lambda: "in",
        partition=lambda: 0,
        offset=lambda: 3,
        key=lambda: b"k",
        value=lambda: b"v",
        headers=lambda: None,
        timestamp=lambda: (1, 99),
    )
    io._consumer.poll = lambda timeout: msg
    io._consumer.consume = lambda n, timeout: []
    io._serve_events()
    (rec,) = io.poll(10)
    assert (rec.offset, rec.value, rec.headers, rec.timestamp) == (3, b"v", [], 99)


def test_client_configs_follow_the_settings() -> None:
    s = MiraSettings(
        kafka={
            "bootstrap": "h:1",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "u",
            "sasl_password": "p",
            "ssl_cafile": "/ca.pem",
        },
        scorer={"delivery": "exactly-once", "transactional_id": "tx", "instance_id": "pod-0"},
    )
    c, p = consumer_config(s), producer_config(s, 1000)
    assert c["isolation.level"] == "read_committed" and not c["enable.auto.commit"]
    assert c["partition.assignment.strategy"] == "cooperative-sticky"
    assert c["group.instance.id"] == "pod-0" and c["sasl.password"] == "p"
    assert c["security.protocol"] == "sasl_ssl" and c["ssl.ca.location"] == "/ca.pem"
    assert p["transactional.id"] == "tx" and p["acks"] == "all" and p["enable.idempotence"]
    assert p["message.max.bytes"] > 1000


def test_a_full_output_is_a_delivery_error() -> None:
    io = _io()
    _done(io, P0, 0, b"a")
    io.committer.fail = True  # type: ignore[attr-defined]
    with pytest.raises(DeliveryError):
        io.commit()
    assert [e.msg.value for e in io._held[P0].entries] == [b"a"]  # kept for the next cycle
