"""Delivering outputs and committing input offsets: at-least-once or exactly-once.

A committer receives, per input partition, the completed prefix of messages (their outputs in
offset order) and the offset to commit.  It runs on the consumer's thread.
- at-least-once: produce everything, wait for every ack, then commit the offsets.
- exactly-once: one transaction per call: produce, ``send_offsets_to_transaction``, commit.
Either way, metrics are counted only after success, so they match what readers see.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mira import metrics
from scorer.offsets import Ready

log = logging.getLogger(__name__)

Kind = Literal["accept", "reject", "dead"]


class DeliveryError(RuntimeError):
    """Outputs could not be produced or offsets committed; the batch must be retried."""


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


def count_delivered(ready: Mapping[Any, Ready[OutMessage]]) -> None:
    now_ms = time.time() * 1000
    for r in ready.values():
        for m in r.items:
            if m.kind == "accept":
                metrics.DOCS_ACCEPTED.labels(m.label).inc()
            elif m.kind == "reject":
                metrics.DOCS_REJECTED.labels(m.label).inc()
            else:
                metrics.DOCS_DEAD.labels(m.label).inc()
            if m.input_ts_ms >= 0:
                metrics.E2E_LATENCY.observe(max(0.0, (now_ms - m.input_ts_ms) / 1000))


def _offsets(ready: Mapping[Any, Ready[OutMessage]]) -> dict[Any, Any]:
    from kafka.structs import OffsetAndMetadata

    return {tp: OffsetAndMetadata(r.commit_offset, "", -1) for tp, r in ready.items()}


def _send_all(producer: Any, ready: Mapping[Any, Ready[OutMessage]]) -> list[Any]:
    futures = []
    for r in ready.values():
        for m in r.items:
            if m.topic is not None:
                futures.append(producer.send(m.topic, value=m.value, key=m.key,
                                             headers=m.headers))
    return futures


class Committer(Protocol):
    def deliver(self, ready: Mapping[Any, Ready[OutMessage]]) -> None: ...


class AtLeastOnceCommitter:
    def __init__(self, producer: Any, consumer: Any, timeout_s: float = 60.0) -> None:
        self.producer = producer
        self.consumer = consumer
        self.timeout_s = timeout_s

    def deliver(self, ready: Mapping[Any, Ready[OutMessage]]) -> None:
        if not ready:
            return
        try:
            futures = _send_all(self.producer, ready)
            self.producer.flush(timeout=self.timeout_s)
            failed = [f.exception for f in futures if not f.succeeded()]
            if failed:
                raise DeliveryError(f"{len(failed)} sends failed, first: {failed[0]}")
            self.consumer.commit(_offsets(ready))
        except DeliveryError:
            metrics.COMMIT_ERRORS.inc()
            raise
        except Exception as exc:
            metrics.COMMIT_ERRORS.inc()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        metrics.COMMITS.labels("at-least-once").inc()
        count_delivered(ready)


class ExactlyOnceCommitter:
    def __init__(self, producer: Any, consumer: Any) -> None:
        self.producer = producer
        self.consumer = consumer

    def deliver(self, ready: Mapping[Any, Ready[OutMessage]]) -> None:
        if not ready:
            return
        try:
            self.producer.begin_transaction()
            _send_all(self.producer, ready)
            self.producer.send_offsets_to_transaction(
                _offsets(ready), self.consumer.group_metadata()
            )
            self.producer.commit_transaction()
        except Exception as exc:
            metrics.COMMIT_ERRORS.inc()
            self._abort()
            raise DeliveryError(f"transaction failed: {type(exc).__name__}: {exc}") from exc
        metrics.COMMITS.labels("exactly-once").inc()
        count_delivered(ready)

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction()
        except Exception as exc:  # the transaction may never have begun
            log.warning("abort_transaction failed: %s", exc)
