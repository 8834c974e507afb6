"""confluent-kafka (librdkafka) clients shaped like the kafka-python ones the committers use.

The committers (scorer/committers.py) were written against kafka-python: ``send`` returns a
future, ``flush(timeout)``, transactions, ``consumer.commit({tp: OffsetAndMetadata})``, errors
recognised by class name.  :class:`Producer` and :class:`Consumer` offer exactly that over
librdkafka, so both clients share one implementation of at-least-once and exactly-once: the
same acked-prefix commits, size stubs, suspects and fencing rules.  Everything here runs on the
scorer's Kafka thread (librdkafka serves delivery reports inside ``flush``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mira.settings import MiraSettings
from scorer.committers import TransactionStuck
from scorer.delivery import RECORD_OVERHEAD
from scorer.kafka_shared import transactional_id

log = logging.getLogger(__name__)


class ProducerFencedError(RuntimeError):
    """Another producer owns the transactional id (named like kafka-python's: fatal)."""


class MessageSizeTooLargeError(RuntimeError):
    """The output is larger than the producer or the broker takes (becomes a stub)."""


class KafkaTimeoutError(RuntimeError):
    """Not every message was delivered within the flush timeout."""


class DeliveryFailed(RuntimeError):
    """The broker (or librdkafka) refused or expired one message."""


def _fenced_codes() -> set[int]:
    from confluent_kafka import KafkaError as E

    return {
        E._FENCED,
        E.PRODUCER_FENCED,
        E.INVALID_PRODUCER_EPOCH,
        E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        E.FENCED_INSTANCE_ID,
    }


def translate(err: Any) -> Exception:
    """A librdkafka ``KafkaError`` as the exception the committers recognise."""
    from confluent_kafka import KafkaError as E

    text = f"{err.name()}: {err.str()}"
    if err.code() in _fenced_codes():
        return ProducerFencedError(text)
    if err.code() in (E.MSG_SIZE_TOO_LARGE, E.RECORD_LIST_TOO_LARGE):
        return MessageSizeTooLargeError(text)
    if err.code() == E._TIMED_OUT:
        return TransactionStuck(text)
    return DeliveryFailed(text)


def _raise(exc: Exception, owner: Producer | None = None) -> None:
    """Re-raise a ``KafkaException`` translated (anything else unchanged); a fatal error
    marks ``owner`` for replacement."""
    err: Any = exc.args[0] if exc.args else None
    if type(exc).__name__ == "KafkaException" and hasattr(err, "code"):
        if owner is not None and err.fatal():
            owner.fatal = err.str()
        raise translate(err) from exc
    raise exc


class Future:
    """What ``send`` returns: set by the delivery report (inside ``flush``)."""

    __slots__ = ("exception", "is_done", "owner")

    def __init__(self, owner: Producer) -> None:
        self.is_done = False
        self.exception: Exception | None = None
        self.owner = owner

    def __call__(self, err: Any, _msg: Any) -> None:  # librdkafka's on_delivery
        if err is not None and err.fatal():
            self.owner.fatal = err.str()
        self.exception = None if err is None else translate(err)
        self.is_done = True

    def succeeded(self) -> bool:
        return self.is_done and self.exception is None


@dataclass(frozen=True, slots=True)
class GroupMeta:
    """Consumer group metadata for a transaction: librdkafka's opaque object, plus the member
    id the exactly-once committer checks (librdkafka does not expose the generation: 0 stands
    for "a member"; the broker checks the real one carried in ``raw``, KIP-447)."""

    raw: Any
    member_id: str
    generation_id: int


class Producer:
    """kafka-python's producer surface over ``confluent_kafka.Producer``."""

    def __init__(self, conf: Mapping[str, Any], timeout_s: float, txn_timeout_s: float) -> None:
        from confluent_kafka import Producer as Rd

        self._p = Rd(dict(conf))
        self.timeout_s = timeout_s
        self.txn_timeout_s = txn_timeout_s  # the broker aborts a transaction open longer
        self.transactional = "transactional.id" in conf
        self.fatal: str | None = None  # a fatal (not fenced) error: replace this producer
        self.hung = False  # a transactional call never returned: replace, never touch again

    def send(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, Any]]
    ) -> Future:
        future = Future(self)
        while True:
            try:
                self._p.produce(
                    topic, value=value, key=key, headers=headers or None, on_delivery=future
                )
                return future
            except BufferError:  # the local queue is full: serve delivery reports, retry
                self._p.poll(0.05)
            except Exception as exc:  # KafkaException: size, unknown topic, fenced
                _raise(exc, self)

    def flush(self, timeout: float) -> None:
        left = self._p.flush(timeout)
        if left:
            raise KafkaTimeoutError(f"{left} messages not delivered after {timeout:.0f} s")

    def init_transactions(self) -> None:
        self._bounded(self.timeout_s, self._p.init_transactions, self.timeout_s)

    def begin_transaction(self) -> None:
        self._call(self._p.begin_transaction)

    def send_offsets_to_transaction(self, offsets: Mapping[Any, Any], meta: GroupMeta) -> None:
        t = self.txn_timeout_s
        self._bounded(t, self._p.send_offsets_to_transaction, to_partitions(offsets), meta.raw, t)

    def commit_transaction(self) -> None:
        self._bounded(self.txn_timeout_s, self._p.commit_transaction, self.txn_timeout_s)

    def abort_transaction(self) -> None:
        self._bounded(self.txn_timeout_s, self._p.abort_transaction, self.txn_timeout_s)

    def _bounded(self, bound_s: float, fn: Any, *args: Any) -> None:
        """``_call`` in a helper thread, given up after ``bound_s`` + 5 s: librdkafka's
        transactional calls can ignore their own timeout (librdkafka issues #5456, #5511: a
        group coordinator that went away).  A call given up on marks this producer ``hung``:
        it is replaced (its successor fences it) and never touched again."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._call(fn, *args)
            except BaseException as exc:  # handed to the calling thread
                failure.append(exc)

        worker = threading.Thread(target=run, name="rdkafka-txn", daemon=True)
        worker.start()
        worker.join(bound_s + 5.0)
        if worker.is_alive():
            self.hung = True
            raise TransactionStuck(
                f"{getattr(fn, '__name__', 'call')} still blocked after {bound_s + 5.0:.0f} s"
            )
        if failure:
            raise failure[0]

    def close(self, timeout: float) -> None:
        self._p.flush(timeout)

    def _call(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            _raise(exc, self)


class Consumer:
    """The committers' ``consumer.commit(offsets)`` over ``confluent_kafka.Consumer``.

    Before committing, pending rebalance events are served (``serve``) and only partitions
    still assigned are committed: a commit from a member whose session expired meanwhile would
    be refused, and for a static member (group.instance.id) librdkafka makes that refusal
    (FENCED_INSTANCE_ID) fatal to the consumer.
    """

    def __init__(self, consumer: Any, serve: Callable[[], None]) -> None:
        self._c = consumer
        self._serve = serve

    def commit(self, offsets: Mapping[Any, Any]) -> None:
        self._serve()
        mine = {(tp.topic, tp.partition) for tp in self._c.assignment()}
        kept = [tp for tp in to_partitions(offsets) if (tp.topic, tp.partition) in mine]
        if len(kept) < len(offsets):
            log.info("not committing %d partitions no longer assigned", len(offsets) - len(kept))
        if not kept:
            return
        try:
            done = self._c.commit(offsets=kept, asynchronous=False)
        except Exception as exc:
            _raise(exc)
            return
        failed = [tp for tp in done or [] if tp.error is not None]
        if failed:
            raise translate(failed[0].error)


def to_partitions(offsets: Mapping[Any, Any]) -> list[Any]:
    """``{TopicPartition: OffsetAndMetadata | int}`` (kafka-python) -> librdkafka's list."""
    from confluent_kafka import TopicPartition

    return [
        TopicPartition(tp.topic, tp.partition, getattr(o, "offset", o)) for tp, o in offsets.items()
    ]


@dataclass(frozen=True, slots=True)
class Record:
    """A consumed message with kafka-python's ConsumerRecord attributes (what the flow uses)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp: int


def record(msg: Any) -> Record:
    return Record(
        msg.topic(),
        msg.partition(),
        msg.offset(),
        msg.key(),
        msg.value(),
        msg.headers() or [],
        msg.timestamp()[1],
    )


def consumer_config(settings: MiraSettings) -> dict[str, Any]:
    sc = settings.scorer
    conf = {
        **settings.kafka.librdkafka_config(),
        "group.id": sc.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": sc.session_timeout_ms,
        "max.poll.interval.ms": sc.max_poll_interval_ms,
        "topic.metadata.refresh.interval.ms": sc.metadata_max_age_ms,
    }
    if sc.instance_id:
        conf["group.instance.id"] = sc.instance_id
    return conf


def producer_config(settings: MiraSettings, limit: int) -> dict[str, Any]:
    """Idempotent, acks=all, messages sized for the largest output; transactional in
    exactly-once mode (like KafkaIO's producer)."""
    pr, sc = settings.producer, settings.scorer
    conf = {
        **settings.kafka.librdkafka_config(),
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": pr.linger_ms,
        "batch.size": pr.batch_bytes,
        "compression.type": pr.compression,
        "message.max.bytes": limit + RECORD_OVERHEAD,
    }
    if sc.delivery == "exactly-once":
        conf["transactional.id"] = transactional_id(settings)
        conf["transaction.timeout.ms"] = sc.transaction_timeout_ms
    return conf
