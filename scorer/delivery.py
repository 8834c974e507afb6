"""Delivering outputs and committing input offsets: at-least-once or exactly-once.

KafkaIO hands a committer, per input partition, the completed prefix of consumed messages
(:class:`Held`: one output each, in offset order).  Both committers run on the Kafka thread.
- at-least-once: produce what is not yet acknowledged, wait for the acks, then commit each
  partition up to its contiguous acknowledged prefix.  A failed cycle keeps what was acked: it
  is never sent again (the dead-letter topic never grows by multiples).
- exactly-once: one transaction per cycle (produce, ``send_offsets_to_transaction`` with the
  consumer's group metadata, commit); an aborted transaction is redone whole, invisible to
  ``read_committed`` readers.  A fenced producer is fatal.
The committers live in ``scorer/committers.py``.  Every output first passes :func:`fit`: one
larger than what its topic takes becomes a dead-letter stub (headers, origin and reason, no
payload).  Metrics count only what committed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mira import metrics
from mira.contracts import H_ERROR, H_ERROR_DETAIL, H_ORIGIN, DeadLetterReason

log = logging.getLogger(__name__)

Kind = Literal["accept", "reject", "dead"]
RECORD_OVERHEAD = 512  # record and batch headers beyond key, value and header bytes
TOO_LARGE = ("MessageSizeTooLargeError", "RecordListTooLargeError", "RecordTooLargeError")
FATAL = (
    "ProducerFencedError",
    "InvalidProducerEpochError",
    "TransactionalIdAuthorizationFailedError",
    "FencedInstanceIdError",
)


class DeliveryError(RuntimeError):
    """Outputs could not be produced or offsets committed now; the cycle is retried."""


class FatalDeliveryError(RuntimeError):
    """The producer was fenced (another instance owns the transactional id): exit."""


@dataclass(slots=True)
class OutMessage:
    """One output record; ``topic`` None means nothing is produced (rejected topic disabled)."""

    topic: str | None
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    kind: Kind = "accept"
    label: str = ""  # group (accept/reject) or reason code (dead)
    input_ts_ms: int = -1
    origin: str = ""  # topic/partition/offset of the input message
    source: str = ""  # accept/reject: the document's source as a metric label (bounded)

    def size(self) -> int:
        return (
            len(self.value)
            + len(self.key or b"")
            + RECORD_OVERHEAD
            + sum(len(k) + len(v) for k, v in self.headers)
        )


@dataclass(slots=True)
class Entry:
    offset: int
    msg: OutMessage
    acked: bool = False
    future: Any = None
    suspect: bool = False  # failed with a size error, maybe as collateral: next sent alone


@dataclass(slots=True)
class Held:
    """One partition's completed outputs awaiting delivery, in offset order."""

    epoch: int
    entries: list[Entry]


def stub(msg: OutMessage, dlq: str, detail: str) -> OutMessage:
    """The dead-letter stand-in of an output that cannot be delivered: no payload."""
    reason = DeadLetterReason.OUTPUT_TOO_LARGE
    keep = [(k, v) for k, v in msg.headers if k not in (H_ERROR, H_ERROR_DETAIL, H_ORIGIN)]
    headers = [
        *keep,
        (H_ERROR, reason.value.encode()),
        (H_ERROR_DETAIL, detail[:1000].encode()),
        (H_ORIGIN, msg.origin.encode()),
    ]
    return OutMessage(dlq, msg.key, b"", headers, "dead", reason.value, msg.input_ts_ms, msg.origin)


class Limits:
    """The largest output each topic takes: the producer's request size, lowered to a topic's
    ``max.message.bytes`` where the broker let us read it (uncompressed sizes: conservative)."""

    def __init__(self, request: int, topics: Mapping[str, int] | None = None) -> None:
        self.request = request
        self.topics = dict(topics or {})

    def of(self, topic: str) -> int:
        return min(self.request, self.topics.get(topic, self.request))


def fit(entry: Entry, limits: Limits, dlq: str) -> None:
    """Replace an output larger than its topic takes by its stub (in place)."""
    if entry.msg.topic is None:
        return
    size, limit = entry.msg.size(), limits.of(entry.msg.topic)
    if size > limit:
        entry.msg = stub(
            entry.msg,
            dlq,
            f"{entry.msg.kind} output of {size} bytes exceeds "
            f"{limit} bytes, what {entry.msg.topic} takes: payload dropped",
        )


def send(producer: Any, entry: Entry, dlq: str) -> None:
    """Send one output (a client-side size refusal turns it into its stub, sent instead)."""
    if entry.msg.topic is None:
        entry.future = None
        return
    try:
        entry.future = producer.send(
            entry.msg.topic, value=entry.msg.value, key=entry.msg.key, headers=entry.msg.headers
        )
    except Exception as exc:
        if type(exc).__name__ not in TOO_LARGE:
            raise
        entry.msg = stub(entry.msg, dlq, f"refused by the producer: {exc}")
        entry.future = producer.send(dlq, value=b"", key=entry.msg.key, headers=entry.msg.headers)


def count_delivered(entries: list[Entry]) -> None:
    """Count committed outputs: one increment per label set and cycle, one latency each."""
    now_ms = time.time() * 1000
    counts: Counter[tuple[Kind, str, str]] = Counter()
    latency = metrics.E2E_LATENCY
    for e in entries:
        m = e.msg
        counts[m.kind, m.label, m.source] += 1
        if m.input_ts_ms >= 0:
            latency.observe(max(0.0, (now_ms - m.input_ts_ms) / 1000))
    for (kind, label, source), n in counts.items():
        if kind == "dead":
            metrics.DOCS_DEAD.labels(label).inc(n)
            continue
        (metrics.DOCS_ACCEPTED if kind == "accept" else metrics.DOCS_REJECTED).labels(label).inc(n)
        metrics.DOCS_BY_SOURCE.labels(source, kind).inc(n)


def offsets(commit: Mapping[Any, int]) -> dict[Any, Any]:
    from kafka.structs import OffsetAndMetadata

    return {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in commit.items()}


def fatal(exc: BaseException) -> bool:
    return type(exc).__name__ in FATAL
