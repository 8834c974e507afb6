"""The scorer's document flow: admit and route each consumed record, batch per group, score
through the engine, and turn every outcome into exactly one output message.

Nothing a message contains can make ``accept`` or ``score`` raise: a record becomes a dead letter
with a reason code, or a scored document.  Infrastructure failures (backend down, broken
tokenizer pool) wait with backoff and never dead-letter; an unexpected exception on a batch is
retried a bounded number of times, then the batch is scored one document at a time so only a
document that fails alone is dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from kafka.structs import TopicPartition

from mira import metrics
from mira.contracts import DeadLetterReason, RepositoryManifest, ScoredDocument
from mira.engine.admit import Invalid, admit
from mira.engine.backend import BackendUnavailable
from mira.engine.backoff import Backoff
from mira.engine.engine import Engine, score_documents
from mira.engine.route import route
from mira.settings import MiraSettings
from scorer.batcher import Batch, MicroBatcher
from scorer.delivery import OutMessage
from scorer.messages import OutputTopics, Pending, dead_letter, scored, source_label
from scorer.offsets import OffsetTracker

log = logging.getLogger(__name__)


class Scoring:
    def __init__(
        self,
        settings: MiraSettings,
        engine: Engine,
        manifest: Callable[[], RepositoryManifest],
        tracker: OffsetTracker[Any, OutMessage],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.manifest = manifest
        self.tracker = tracker
        self.topics = OutputTopics.from_settings(settings.topics)
        sc = settings.scorer
        self.batcher: MicroBatcher[Pending] = MicroBatcher(sc.batch_size, sc.max_wait_ms / 1e3)
        self.tasks: set[asyncio.Task[None]] = set()
        self._docs_in: dict[str, Any] = {}  # per input topic: the labelled counter

    def accept(self, rec: Any, now: float) -> None:
        """Start tracking a consumed record; admit, route, and batch it (or dead-letter it)."""
        counter = self._docs_in.get(rec.topic)
        if counter is None:
            counter = self._docs_in[rec.topic] = metrics.DOCS_IN.labels(rec.topic)
        counter.inc()
        token = self.tracker.start(TopicPartition(rec.topic, rec.partition), rec.offset)
        doc = admit(rec.value, self.settings.document)
        group = (
            doc
            if isinstance(doc, Invalid)
            else route(doc, self.manifest(), self.settings.scorer.unknown_source)
        )
        if isinstance(group, Invalid):
            self.tracker.complete(token, dead_letter(rec, group.reason, group.detail, self.topics))
            return
        assert not isinstance(doc, Invalid)
        full = self.batcher.add(group, Pending(rec, doc, token), now)
        if full is not None:
            self.dispatch([full])

    def dispatch(self, batches: list[Batch[Pending]]) -> None:
        for batch in batches:
            task = asyncio.create_task(self.score(batch))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def score(self, batch: Batch[Pending]) -> None:
        results = await self._results(batch)
        manifest = self.manifest()
        outputs = [
            (
                pending.token,
                dead_letter(pending.record, res.reason, res.detail, self.topics)
                if isinstance(res, Invalid)
                else scored(pending.record, res, self.topics, source_label(res.source, manifest)),
            )
            for pending, res in zip(batch.items, results, strict=True)
        ]
        self.tracker.complete_many(outputs)  # one lock per batch (the Kafka thread pops)

    async def _results(self, batch: Batch[Pending]) -> list[ScoredDocument | Invalid]:
        es = self.settings.engine
        backoff = Backoff(es.retry_initial_s, es.retry_max_s)
        failures = 0
        docs = [p.doc for p in batch.items]
        while True:
            try:
                if failures > es.ambiguous_retries:  # bounded: each document alone now
                    return [await self._alone(batch.group, d) for d in docs]
                return await score_documents(
                    self.engine, self.manifest(), batch.group, docs, es.pre_cut_margin
                )
            except BackendUnavailable as exc:  # infrastructure: wait, never dead-letter
                self.engine.healthy = False
                log.warning("batch of %s waits for the backend: %s", batch.group, exc)
            except Exception:  # a bug, not a document's proven fault: bounded, then isolate
                failures += 1
                log.exception("scoring a batch of %s failed (%d)", batch.group, failures)
            await asyncio.sleep(backoff.next_delay())

    async def _alone(self, group: str, doc: Any) -> ScoredDocument | Invalid:
        try:
            results = await score_documents(
                self.engine, self.manifest(), group, [doc], self.settings.engine.pre_cut_margin
            )
        except BackendUnavailable:
            raise
        except Exception as exc:  # fails alone after its batch-mates: this document's fault
            return Invalid(
                DeadLetterReason.INFERENCE_FAILED,
                f"internal error on this document: {type(exc).__name__}: {exc}",
            )
        return results[0]
