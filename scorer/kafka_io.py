"""The Kafka side of the scorer: one consumer and one producer, used from ONE thread only.

The app runs every call here in a single-thread executor (poll, pause/resume, lag,
deliver+commit).  kafka-python 3 runs rebalance callbacks on its own network thread, so they
only drop state (under a lock) and never call the clients.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from kafka.errors import KafkaError

from mira import metrics
from mira.settings import MiraSettings
from scorer.committers import AtLeastOnceCommitter, Delivered, ExactlyOnceCommitter
from scorer.delivery import (
    RECORD_OVERHEAD,
    DeliveryError,
    Held,
    Limits,
    OutMessage,
)
from scorer.kafka_shared import (
    OUTPUT_ENVELOPE,
    describe,
    merge,
    merge_held,
    output_limits,
    transactional_id,
)
from scorer.offsets import OffsetTracker

log = logging.getLogger(__name__)


def _listener_class() -> type:
    from kafka import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        def __init__(self, io: KafkaIO) -> None:
            self.io = io

        def on_partitions_revoked(self, revoked: Any) -> None:
            self.io.on_revoked(list(revoked), lost=False)

        def on_partitions_assigned(self, assigned: Any) -> None:
            self.io.on_assigned(list(assigned))

        def on_partitions_lost(self, lost: Any) -> None:
            self.io.on_revoked(list(lost), lost=True)

    return Listener


class KafkaIO:
    def __init__(self, settings: MiraSettings, tracker: OffsetTracker[Any, OutMessage]) -> None:
        from kafka import KafkaConsumer
        from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

        sc = settings.scorer
        client = settings.kafka.client_kwargs()
        self.tracker = tracker
        self._held: dict[Any, Held] = {}
        self._lock = threading.Lock()
        self._unstable_since = 0.0
        self._assigned: set[Any] = set()
        self._lag_labels: dict[Any, tuple[str, str]] = {}  # partitions with a lag gauge
        eos = sc.delivery == "exactly-once"
        self.consumer = KafkaConsumer(
            group_id=sc.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            partition_assignment_strategy=(CooperativeStickyAssignor,),
            isolation_level="read_committed",
            max_poll_interval_ms=sc.max_poll_interval_ms,
            max_poll_records=sc.max_poll_records,
            group_instance_id=sc.instance_id,
            session_timeout_ms=sc.session_timeout_ms,
            metadata_max_age_ms=sc.metadata_max_age_ms,
            **client,
        )
        self._settings = settings
        self.limit = settings.document.max_bytes + OUTPUT_ENVELOPE
        self.producer = self._producer()
        kind = ExactlyOnceCommitter if eos else AtLeastOnceCommitter
        self.committer: AtLeastOnceCommitter | ExactlyOnceCommitter = kind(
            self.producer,
            self.consumer,
            Limits(self.limit, self._topic_limits()),
            settings.topics.dlq,
            sc.delivery_timeout_s,
        )
        self.committer.renew = self._renew_producer
        self._wait_for_topic(settings.topics.input)
        self.consumer.subscribe([settings.topics.input], listener=_listener_class()(self))
        self._paused = False

    def _producer(self) -> Any:
        """The output producer: idempotent, acks=all, requests sized for the largest output
        (``document.max_bytes`` plus the verdict envelope); transactional in exactly-once mode."""
        from kafka import KafkaProducer

        s = self._settings
        extra: dict[str, Any] = {}
        if s.scorer.delivery == "exactly-once":
            extra = {
                "transactional_id": transactional_id(s),
                "transaction_timeout_ms": s.scorer.transaction_timeout_ms,
            }
        pr = s.producer
        producer = KafkaProducer(
            acks="all",
            linger_ms=pr.linger_ms,
            batch_size=pr.batch_bytes,
            max_request_size=self.limit + RECORD_OVERHEAD,
            compression_type=None if pr.compression == "none" else pr.compression,
            **extra,
            **s.kafka.client_kwargs(),
        )
        if extra:
            producer.init_transactions()
        return producer

    def _topic_limits(self) -> dict[str, int]:
        return output_limits(self._settings, lambda topics: describe(self._settings, topics))

    def _renew_producer(self, force: bool = False) -> None:
        """Replace a producer in a fatal (not fenced) state, or one whose transaction got
        stuck: init_transactions on the same transactional id aborts what it left open."""
        manager = getattr(self.producer, "_transaction_manager", None)
        broken = manager is not None and manager.has_fatal_error()
        if not (force or broken):
            return
        why = manager.last_error if broken and manager else "transaction stuck"
        log.warning("replacing the producer (%s)", why)
        with contextlib.suppress(Exception):
            self.producer.close(timeout=1)
        self.producer = self.committer.producer = self._producer()

    def _wait_for_topic(self, topic: str, timeout_s: float = 30.0) -> None:
        """Subscribe only once the topic's partitions are known (else none are assigned until
        the next metadata refresh)."""
        deadline = time.monotonic() + timeout_s
        while not self.consumer.partitions_for_topic(topic):
            if time.monotonic() >= deadline:
                log.warning("input topic %s has no partitions yet; subscribing anyway", topic)
                return
            time.sleep(0.2)

    def poll(self, timeout_ms: int) -> list[Any]:
        """Fetch records (group joins happen in here); flat list in partition order.

        While the group is not stable the timeout is raised to 500 ms.  kafka-python 3.0.12 can
        leave a leader's second, metadata-triggered join half-finished (state REBALANCING with no
        rejoin pending) when a short poll times out in the middle of it; after 1 s in that state
        a rejoin is requested, which completes normally.
        """
        if _is_stable(self.consumer.group_metadata()):
            self._unstable_since = 0.0
        else:
            timeout_ms = max(timeout_ms, 500)
            now = time.monotonic()
            self._unstable_since = self._unstable_since or now
            coordinator = getattr(self.consumer, "_coordinator", None)
            if (
                now - self._unstable_since > 1.0
                and coordinator is not None
                and not coordinator.need_rejoin()
            ):
                log.info("consumer group join stalled: requesting a rejoin")
                coordinator.request_rejoin()
                self._unstable_since = now
        try:
            batches = self.consumer.poll(timeout_ms=timeout_ms)
        except KafkaError as exc:  # retriable (broker down): wait, never exit; others raise
            if not exc.retriable:
                raise
            log.warning("consumer: %s: polling again", exc)
            time.sleep(min(timeout_ms, 1000) / 1000)
            return []
        return [rec for recs in batches.values() for rec in recs]

    def set_paused(self, paused: bool) -> None:
        assigned = list(self.consumer.assignment())
        if paused:
            self.consumer.pause(*assigned)
        elif self._paused or self.consumer.paused():
            self.consumer.resume(*self.consumer.paused())
        self._paused = paused
        metrics.PAUSED.set(len(assigned) if paused else 0)

    def update_lag(self) -> None:
        """Lag gauges of the assigned partitions (a revoked one's series is removed)."""
        lags = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            try:
                pos = self.consumer.position(tp, timeout_ms=0)
            except Exception:
                continue
            if pos is not None:
                lags[tp] = max(0, high - pos)
        with self._lock:  # a partition revoked meanwhile gets no gauge back
            for tp, lag in lags.items():
                if tp in self._assigned:
                    labels = self._lag_labels[tp] = (tp.topic, str(tp.partition))
                    metrics.CONSUMER_LAG.labels(*labels).set(lag)

    def commit(self) -> int:
        """Deliver the completed prefix of every partition; returns messages committed.

        Skipped (0) while the group is not stable; the group metadata of the stability check is
        the one the transaction carries.  What a cycle could not commit is kept for the next one
        (at-least-once keeps its acks, so nothing acked is sent twice); a fenced producer raises
        FatalDeliveryError.
        """
        meta = self.consumer.group_metadata()
        with self._lock:
            for tp, ready in self.tracker.pop_ready().items():
                merge(self._held, tp, ready)
            if not self._held or not _is_stable(meta):
                return 0
            batch, self._held = self._held, {}
        result = Delivered()
        try:
            result = self.committer.deliver(batch, meta)
        finally:
            self._keep(batch, result)
        if result.error:
            self._renew_producer(force=result.renew)
            raise DeliveryError(result.error)
        return sum(result.done.values())

    def _keep(self, batch: dict[Any, Held], result: Delivered) -> None:
        """Hold again what the cycle did not commit and is still ours (same epoch)."""
        with self._lock:
            newer, self._held = self._held, {}
            for tp, held in batch.items():
                left = held.entries[result.done.get(tp, 0) :]
                if left and self.tracker.owns(tp, held.epoch):
                    self._held[tp] = Held(held.epoch, left)
            for tp, held in newer.items():
                merge_held(self._held, tp, held)

    def on_assigned(self, partitions: list[Any]) -> None:
        """Runs on kafka-python's network thread (incremental under cooperative rebalancing)."""
        with self._lock:
            self._assigned.update(partitions)
            metrics.ASSIGNED.set(len(self._assigned))
        log.info("assigned %s", sorted(f"{tp.topic}-{tp.partition}" for tp in partitions))

    def on_revoked(self, partitions: list[Any], lost: bool) -> None:
        """Runs on kafka-python's network thread: must not block on the clients.

        Completed-but-uncommitted work of revoked partitions is abandoned (never committed);
        the new owner redoes it from the last committed offset.
        """
        dropped = self.tracker.revoke(partitions)
        with self._lock:
            for tp in partitions:
                held = self._held.pop(tp, None)
                dropped += len(held.entries) if held else 0
            self._assigned.difference_update(partitions)
            metrics.ASSIGNED.set(len(self._assigned))
            for tp in partitions:
                labels = self._lag_labels.pop(tp, None)
                if labels is not None:
                    with contextlib.suppress(KeyError):
                        metrics.CONSUMER_LAG.remove(*labels)
        log.info(
            "%s %d partitions, %d uncommitted abandoned",
            "lost" if lost else "revoked",
            len(partitions),
            dropped,
        )

    def close(self, timeout_s: float = 10.0) -> None:
        try:
            self.consumer.close(autocommit=False)
        finally:
            self.producer.close(timeout=timeout_s)


def _is_stable(meta: Any) -> bool:
    from kafka.structs import MemberState

    return bool(meta.state == MemberState.STABLE)
