"""Kafka writer: an idempotent kafka-python producer that counts deliveries and failures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class DeliveryStats:
    """Acknowledged and failed sends (updated from the producer's I/O thread)."""

    delivered: int = 0
    delivered_bytes: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the first few error messages
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ok(self, size: int) -> None:
        with self._lock:
            self.delivered += 1
            self.delivered_bytes += size

    def fail(self, message: str) -> None:
        with self._lock:
            self.failed += 1
            if len(self.errors) < 5:
                self.errors.append(message)


def producer_kwargs(
    *, compression: str, linger_ms: int, batch_bytes: int, acks: str, idempotent: bool = True
) -> dict[str, Any]:
    """kafka-python producer options for mira's defaults (idempotence needs acks=all)."""
    ack: int | str = "all" if acks == "all" else int(acks)
    idem = idempotent and ack == "all"
    if idempotent and not idem:
        log.warning("acks=%s: the idempotent producer needs acks=all, so it is off", acks)
    return {
        "acks": ack,
        "enable_idempotence": idem,
        "compression_type": None if compression == "none" else compression,
        "linger_ms": linger_ms,
        "batch_size": batch_bytes,
        "max_in_flight_requests_per_connection": 5,
        "retries": 2**31 - 1 if idem else 5,
    }


class KafkaWriter:
    """Sends (key, value) records to one topic; ``close()`` flushes and leaves stats final."""

    def __init__(self, topic: str, client: Mapping[str, Any], options: Mapping[str, Any]):
        from kafka import KafkaProducer

        self.topic = topic
        self.stats = DeliveryStats()
        self.queued = 0
        self._send_errors = 0
        self.fatal: Exception | None = None  # an error every further record would meet too
        self._producer = KafkaProducer(**client, **options)

    def send(self, key: bytes, value: bytes) -> None:
        """Queue one record (blocks only while the producer's buffer is full); raises the first
        fatal error (not authorized) as soon as one is known."""
        if self.fatal is not None:
            raise self.fatal
        size = len(value)
        try:
            future = self._producer.send(self.topic, key=key, value=value)
        except Exception as exc:  # e.g. MessageSizeTooLargeError, buffer timeout
            self.stats.fail(f"{type(exc).__name__}: {exc}")
            self._send_errors += 1
            return
        if future.is_done and future.failed() and _fatal(future.exception):
            raise future.exception  # not authorized: every further record would fail the same way
        self.queued += 1
        future.add_callback(lambda _meta: self.stats.ok(size))
        future.add_errback(self._failed)

    def _failed(self, exc: Exception) -> None:
        self.stats.fail(f"{type(exc).__name__}: {exc}")
        if self.fatal is None and _fatal(exc):
            self.fatal = exc

    def flush(self, timeout_s: float | None = None) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self, timeout_s: float = 60.0) -> DeliveryStats:
        try:
            self._producer.flush(timeout=timeout_s)
        except Exception as exc:  # KafkaTimeoutError: what is unacknowledged counts as failed
            log.error("flush did not finish: %s: %s", type(exc).__name__, exc)
        finally:
            self._producer.close(timeout=timeout_s)
        answered = self.stats.delivered + self.stats.failed - self._send_errors
        pending = self.queued - answered  # never acknowledged: failed too
        if pending > 0:
            self.stats.fail(f"{pending} records unacknowledged at close")
            self.stats.failed += pending - 1
        return self.stats


def _fatal(exc: Exception) -> bool:
    from kafka.errors import AuthorizationError, SaslAuthenticationFailedError

    return isinstance(exc, AuthorizationError | SaslAuthenticationFailedError)


def create_topic(client: Mapping[str, Any], topic: str, partitions: int, replication: int) -> bool:
    """Create ``topic``; False when it already exists (anything else raises)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(
        **{k: v for k, v in client.items() if k != "client_id"},
        client_id=f"{client.get('client_id', 'mira')}-admin",
    )
    try:
        admin.create_topics([NewTopic(topic, partitions, replication)])
        log.info("created topic %s (%d partitions, replication %d)", topic, partitions, replication)
        return True
    except TopicAlreadyExistsError:
        log.info("topic %s already exists", topic)
        return False
    finally:
        admin.close()
