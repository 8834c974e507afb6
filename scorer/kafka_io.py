"""The Kafka side of the scorer: one consumer and one producer, used from ONE thread only.

The app runs every call here in a single-thread executor (poll, pause/resume, lag,
deliver+commit).  kafka-python 3 runs rebalance callbacks on its own network thread, so they
only drop state (under a lock) and never call the clients.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from mira import metrics
from mira.settings import MiraSettings
from scorer.delivery import AtLeastOnceCommitter, ExactlyOnceCommitter, OutMessage
from scorer.offsets import OffsetTracker, Ready

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
        from kafka import KafkaConsumer, KafkaProducer
        from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

        sc, pr = settings.scorer, settings.producer
        client = settings.kafka.client_kwargs()
        self.tracker = tracker
        self._held: dict[Any, Ready[OutMessage]] = {}
        self._lock = threading.Lock()
        self._unstable_since = 0.0
        self._assigned: set[Any] = set()
        eos = sc.delivery == "exactly-once"
        self.consumer = KafkaConsumer(
            group_id=sc.group_id, enable_auto_commit=False, auto_offset_reset="earliest",
            partition_assignment_strategy=(CooperativeStickyAssignor,),
            isolation_level="read_committed", max_poll_interval_ms=sc.max_poll_interval_ms,
            max_poll_records=sc.max_poll_records, group_instance_id=sc.instance_id,
            session_timeout_ms=sc.session_timeout_ms,
            metadata_max_age_ms=sc.metadata_max_age_ms, **client,
        )
        extra: dict[str, Any] = {}
        if eos:
            extra = {"transactional_id": transactional_id(settings),
                     "transaction_timeout_ms": sc.transaction_timeout_ms}
        self.producer = KafkaProducer(
            acks="all", linger_ms=pr.linger_ms, batch_size=pr.batch_bytes,
            compression_type=None if pr.compression == "none" else pr.compression,
            **extra, **client,
        )
        if eos:
            self.producer.init_transactions()
        self.committer = (ExactlyOnceCommitter(self.producer, self.consumer) if eos
                          else AtLeastOnceCommitter(self.producer, self.consumer))
        self._wait_for_topic(settings.topics.input)
        self.consumer.subscribe([settings.topics.input], listener=_listener_class()(self))
        self._paused = False

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
        if self._stable():
            self._unstable_since = 0.0
        else:
            timeout_ms = max(timeout_ms, 500)
            now = time.monotonic()
            self._unstable_since = self._unstable_since or now
            coordinator = getattr(self.consumer, "_coordinator", None)
            if (now - self._unstable_since > 1.0 and coordinator is not None
                    and not coordinator.need_rejoin()):
                log.info("consumer group join stalled: requesting a rejoin")
                coordinator.request_rejoin()
                self._unstable_since = now
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        return [rec for recs in batches.values() for rec in recs]

    def _stable(self) -> bool:
        from kafka.structs import MemberState

        return bool(self.consumer.group_metadata().state == MemberState.STABLE)

    def set_paused(self, paused: bool) -> None:
        assigned = list(self.consumer.assignment())
        if paused:
            self.consumer.pause(*assigned)
        elif self._paused or self.consumer.paused():
            self.consumer.resume(*self.consumer.paused())
        self._paused = paused
        metrics.PAUSED.set(len(assigned) if paused else 0)

    def update_lag(self) -> None:
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            try:
                pos = self.consumer.position(tp, timeout_ms=0)
            except Exception:
                continue
            if pos is not None:
                metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - pos))

    def commit(self) -> int:
        """Deliver the completed prefix of every partition; returns messages delivered.

        Skipped (0) while the group rebalances.  On failure the batch is kept for the next call
        (duplicates possible in at-least-once mode only) and the error propagates.
        """
        with self._lock:
            for tp, ready in self.tracker.pop_ready().items():
                _merge(self._held, tp, ready)
            if not self._held or not self._stable():
                return 0
            batch, self._held = self._held, {}
        try:
            self.committer.deliver(batch)
        except Exception:
            with self._lock:  # keep for a retry what is still ours (same assignment epoch)
                newer, self._held = self._held, {}
                for tp, ready in batch.items():
                    if self.tracker.owns(tp, ready.epoch):
                        _merge(self._held, tp, ready)
                for tp, ready in newer.items():
                    _merge(self._held, tp, ready)
            raise
        return sum(len(r.items) for r in batch.values())

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
                dropped += len(held.items) if held else 0
            self._assigned.difference_update(partitions)
            metrics.ASSIGNED.set(len(self._assigned))
        log.info("%s %d partitions, %d uncommitted abandoned",
                 "lost" if lost else "revoked", len(partitions), dropped)

    def close(self, timeout_s: float = 10.0) -> None:
        try:
            self.consumer.close(autocommit=False)
        finally:
            self.producer.close(timeout=timeout_s)


def _merge(into: dict[Any, Ready[OutMessage]], tp: Any, ready: Ready[OutMessage]) -> None:
    """Append ``ready`` (later offsets) to what is held for ``tp``."""
    held = into.get(tp)
    if held is None:
        into[tp] = Ready(list(ready.items), ready.commit_offset, ready.epoch)
    else:
        held.items.extend(ready.items)
        held.commit_offset = ready.commit_offset


def transactional_id(settings: MiraSettings) -> str:
    """The exactly-once producer id: the setting, else ``<group_id>-<hostname>``."""
    sc = settings.scorer
    return sc.transactional_id or f"{sc.group_id}-{socket.gethostname()}"
