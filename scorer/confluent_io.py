"""The Kafka side of the scorer over confluent-kafka (librdkafka): ``kafka.client: confluent``.

The same interface as :class:`scorer.kafka_io.KafkaIO` (poll, set_paused, update_lag, commit,
close), the same committers (through scorer/confluent_clients.py), the same metrics.  Every call
runs on the scorer's one Kafka thread.  librdkafka runs rebalance callbacks inside ``consume``,
on that same thread, so a revocation can finish the partitions' work before they go: it waits
(``scorer.revoke_drain_s`` at most) for their documents in flight, delivers and commits what
completed, and only then lets the partitions go; the rest is redone by the next owner.  A lost
assignment (session expired) commits nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from mira import metrics
from mira.settings import MiraSettings
from scorer.committers import AtLeastOnceCommitter, Delivered, ExactlyOnceCommitter
from scorer.confluent_clients import (
    Consumer,
    GroupMeta,
    Producer,
    consumer_config,
    producer_config,
    record,
)
from scorer.confluent_lag import LagGauge
from scorer.delivery import (
    DeliveryError,
    FatalDeliveryError,
    Held,
    Limits,
    OutMessage,
)
from scorer.fencing import FenceBudget, fenced_member
from scorer.kafka_shared import (
    OUTPUT_ENVELOPE,
    merge,
    merge_held,
    output_limits,
)
from scorer.offsets import OffsetTracker

log = logging.getLogger(__name__)
_FATAL = -150  # librdkafka's RD_KAFKA_RESP_ERR__FATAL: the client is unusable


class ConfluentIO:
    def __init__(self, settings: MiraSettings, tracker: OffsetTracker[Any, OutMessage]) -> None:
        sc = settings.scorer
        self._settings = settings
        self.tracker = tracker
        self._held: dict[Any, Held] = {}
        self._lock = threading.Lock()
        self._assigned: set[Any] = set()
        self._closing = False
        self._delivering = False  # a revocation served inside a delivery abandons, no nesting
        self._stash: list[Any] = []  # messages a rebalance-serving poll(0) returned
        self._graveyard: list[Producer] = []  # hung producers: never closed or touched again
        self._lag = LagGauge(lambda: self._consumer)
        self.limit = settings.document.max_bytes + OUTPUT_ENVELOPE
        self._fences = FenceBudget(sc.fence_renewals if sc.instance_id else 0)
        self._subscribe()
        self.producer = self._producer()
        kind = ExactlyOnceCommitter if sc.delivery == "exactly-once" else AtLeastOnceCommitter
        self.committer: AtLeastOnceCommitter | ExactlyOnceCommitter = kind(
            self.producer,
            self.consumer,
            Limits(self.limit, self._topic_limits()),
            settings.topics.dlq,
            sc.delivery_timeout_s,
        )
        self.committer.renew = self._renew_producer
        self._paused = False

    def _subscribe(self) -> None:
        """A new librdkafka consumer, subscribed with this object's rebalance callbacks."""
        from confluent_kafka import Consumer as RdConsumer

        self._consumer = RdConsumer(consumer_config(self._settings))
        self.consumer = Consumer(self._consumer, self._serve_events)
        self._consumer.subscribe(
            [self._settings.topics.input],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def _producer(self) -> Producer:
        sc = self._settings.scorer
        producer = Producer(
            producer_config(self._settings, self.limit),
            sc.delivery_timeout_s,
            min(sc.delivery_timeout_s, sc.transaction_timeout_ms / 1e3),
        )
        if producer.transactional:
            producer.init_transactions()
        return producer

    def _topic_limits(self) -> dict[str, int]:
        return output_limits(self._settings, self._describe)

    def _describe(self, topics: list[str]) -> dict[str, Any]:
        from confluent_kafka.admin import AdminClient, ConfigResource

        admin = AdminClient(self._settings.kafka.librdkafka_config())
        asked = admin.describe_configs([ConfigResource("topic", n) for n in topics])
        found = {res.name: fut.result(timeout=10) for res, fut in asked.items()}
        return {
            n: getattr(found.get(n, {}).get("max.message.bytes"), "value", None) for n in topics
        }

    def _renew_producer(self, force: bool = False) -> None:
        """Replace a producer with a fatal error, or whose transaction got stuck (its
        successor's init_transactions fences it and aborts what it left open)."""
        if not (force or self.producer.fatal):
            return
        log.warning("replacing the producer (%s)", self.producer.fatal or "transaction stuck")
        if self.producer.hung:
            self._graveyard.append(self.producer)  # a thread is still inside it
        else:
            with contextlib.suppress(Exception):
                self.producer.close(1.0)
        self.producer = self.committer.producer = self._producer()

    # ------------------------------------------------------------------ the app's interface
    def poll(self, timeout_ms: int) -> list[Any]:
        """Consume up to ``max_poll_records``; rebalance callbacks run in here."""
        stash, self._stash = self._stash, []
        n = self._settings.scorer.max_poll_records - len(stash)
        msgs = stash + (self._consumer.consume(n, 0 if stash else timeout_ms / 1e3) if n else [])
        out = []
        for msg in msgs:
            err = msg.error()
            if err is None:
                out.append(record(msg))
            elif err.fatal() or err.code() == _FATAL:
                self._replace_fenced(err)
                return []  # what came with it belongs to the fenced member's assignment
            else:
                log.warning("consumer: %s: %s", err.name(), err.str())
        return out

    def _replace_fenced(self, err: Any) -> None:
        """A static member fenced after its session expired gets a fresh consumer (within
        ``scorer.fence_renewals``, scorer/fencing.py); its partitions' uncommitted work is
        dropped and redone by their next owner.  Any other fatal error ends the scorer."""
        if not (fenced_member(err) and self._fences.take()):
            raise FatalDeliveryError(f"Kafka consumer failed for good: {err.str()}")
        log.warning("consumer fenced (%s): replacing it with a fresh one", err.str())
        self._forget(set(self._assigned), "fenced", 0)
        self._closing, self._stash = True, []  # its close serves no revocation drain
        try:
            with contextlib.suppress(Exception):
                self._consumer.close()
        finally:
            self._closing = False
        self._subscribe()
        self.committer.consumer = self.consumer

    def _serve_events(self) -> None:
        """Serve pending rebalance events (a revocation or a lost assignment) now; a message
        the poll returns is kept for the next ``poll``."""
        msg = self._consumer.poll(0)
        if msg is not None:
            self._stash.append(msg)

    def set_paused(self, paused: bool) -> None:
        assigned = self._consumer.assignment()
        if paused and assigned:
            self._consumer.pause(assigned)
        elif not paused and self._paused and assigned:
            self._consumer.resume(assigned)
        self._paused = paused
        metrics.PAUSED.set(len(assigned) if paused else 0)

    def update_lag(self) -> None:
        self._lag.update()

    def commit(self, partitions: set[Any] | None = None) -> int:
        """Deliver the completed prefix of every (or the given) partition; returns messages
        committed.  What a cycle could not commit is kept for the next one."""
        if partitions is None:
            self._serve_events()  # drop what a rebalance took away before delivering it
        with self._lock:
            for tp, ready in self.tracker.pop_ready(partitions).items():
                merge(self._held, tp, ready)
            chosen = {
                tp: h for tp, h in self._held.items() if partitions is None or tp in partitions
            }
            if not chosen:
                return 0
            for tp in chosen:
                del self._held[tp]
        result = Delivered()
        self._delivering = True
        try:
            result = self.committer.deliver(chosen, self._meta())
        finally:
            self._delivering = False
            self._keep(chosen, result)
        if result.error:
            self._renew_producer(force=result.renew)
            raise DeliveryError(result.error)
        return sum(result.done.values())

    def _meta(self) -> GroupMeta | None:
        if self._settings.scorer.delivery != "exactly-once":
            return None
        member = self._consumer.memberid() or ""
        return GroupMeta(self._consumer.consumer_group_metadata(), member, 0 if member else -1)

    def _keep(self, batch: dict[Any, Held], result: Delivered) -> None:
        with self._lock:
            for tp, held in batch.items():
                left = held.entries[result.done.get(tp, 0) :]
                if left and self.tracker.owns(tp, held.epoch):
                    merge_held(self._held, tp, Held(held.epoch, left))

    def close(self, timeout_s: float = 10.0) -> None:
        self._closing = True  # the drain already delivered what it could: no revoke wait
        try:
            self._consumer.close()
        finally:
            self.producer.close(timeout_s)

    # ------------------------------------------------------------------ rebalance callbacks
    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        keys = _keys(partitions)
        self._lag.assigned(partitions)
        with self._lock:
            self._assigned.update(keys)
            metrics.ASSIGNED.set(len(self._assigned))
        if self._paused and partitions:
            self._consumer.incremental_assign(partitions)
            self._consumer.pause(partitions)
        log.info("assigned %s", sorted(f"{tp.topic}-{tp.partition}" for tp in keys))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        """Runs inside ``consume`` on this thread: finish, deliver and commit, then let go."""
        keys = _keys(partitions)
        committed = 0
        if not (self._closing or self._delivering):
            deadline = time.monotonic() + self._settings.scorer.revoke_drain_s
            while self.tracker.incomplete(keys) and time.monotonic() < deadline:
                time.sleep(0.01)  # the event loop completes them meanwhile
            try:
                committed = self.commit(keys)
            except DeliveryError as exc:
                log.warning("revoked partitions: delivery failed, the next owner redoes: %s", exc)
        self._forget(keys, "revoked", committed)

    def _on_lost(self, _consumer: Any, partitions: list[Any]) -> None:
        self._forget(_keys(partitions), "lost", 0)

    def _forget(self, keys: set[Any], how: str, committed: int) -> None:
        dropped = self.tracker.revoke(keys)
        with self._lock:
            for tp in keys:
                held = self._held.pop(tp, None)
                dropped += len(held.entries) if held else 0
            self._assigned.difference_update(keys)
            metrics.ASSIGNED.set(len(self._assigned))
        for tp in keys:  # no stale lag for partitions another member now owns
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(tp.topic, str(tp.partition))
        log.info(
            "%s %d partitions: %d committed first, %d uncommitted abandoned",
            how,
            len(keys),
            committed,
            dropped,
        )


def _keys(partitions: list[Any]) -> set[Any]:
    """librdkafka's TopicPartitions as the tracker's keys (kafka-python's TopicPartition)."""
    from kafka.structs import TopicPartition

    return {TopicPartition(tp.topic, tp.partition) for tp in partitions}
