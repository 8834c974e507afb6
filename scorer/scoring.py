"""Score one micro-batch: tokenize, infer on Triton (retrying while it is unavailable), decide.

Returns one output record per document, in order.  Triton being down is never a document's
fault: the batch waits and retries with backoff for as long as it takes (the app meanwhile
pauses its input and reports not-ready).  A request Triton rejects as malformed dead-letters the
batch as ``inference_failed``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import numpy as np

from mira import metrics
from mira.contracts import DeadLetterReason, GroupModel, RepositoryManifest
from scorer.backend import BackendError
from scorer.backoff import Backoff
from scorer.batcher import Batch
from scorer.delivery import OutMessage
from scorer.messages import OutputTopics, Pending, dead_letter, scored
from scorer.route import decide
from scorer.tokenpool import TokenizerPool
from scorer.triton_backend import AsyncTritonScorer, TritonUnavailable

log = logging.getLogger(__name__)


class BatchScorer:
    def __init__(self, triton: AsyncTritonScorer, tokens: TokenizerPool,
                 topics: OutputTopics) -> None:
        self.triton = triton
        self.tokens = tokens
        self.topics = topics
        self.healthy = True
        self._old: list[TokenizerPool] = []

    def swap_tokens(self, pool: TokenizerPool) -> None:
        self._old.append(self.tokens)
        self.tokens = pool

    def close(self) -> None:
        for pool in [self.tokens, *self._old]:
            pool.close()

    async def score(self, batch: Batch[Pending],
                    manifest: Callable[[], RepositoryManifest]) -> list[OutMessage]:
        items = batch.items
        t0 = time.perf_counter()
        ids, mask = await self.tokens.encode([p.doc.text for p in items])
        metrics.TOKENIZE_SECONDS.labels(batch.group).observe(time.perf_counter() - t0)
        try:
            current, gm, anchors, score = await self._infer(batch.group, ids, mask, manifest)
        except BackendError as exc:
            reason, detail = DeadLetterReason.INFERENCE_FAILED, str(exc)
            return [dead_letter(p.record, reason, detail, self.topics) for p in items]
        outs = []
        for p, row, value in zip(items, anchors, score, strict=True):
            try:
                doc = decide(p.doc, batch.group, dict(zip(gm.anchors, row.tolist(), strict=True)),
                             float(value), current)
            except KeyError as exc:  # no threshold for this source in the manifest
                outs.append(dead_letter(p.record, DeadLetterReason.UNKNOWN_SOURCE, str(exc),
                                        self.topics))
                continue
            outs.append(scored(p.record, doc, self.topics))
        return outs

    async def _infer(
        self, group: str, ids: np.ndarray, mask: np.ndarray,
        manifest: Callable[[], RepositoryManifest],
    ) -> tuple[RepositoryManifest, GroupModel, np.ndarray, np.ndarray]:
        backoff = Backoff(0.1, 5.0)
        while True:
            current = manifest()  # re-read each attempt: a reload may switch the version
            gm = current.groups.get(group)
            if gm is None:
                raise BackendError(f"group {group!r} is no longer in the manifest")
            t0 = time.perf_counter()
            metrics.IN_FLIGHT.inc()
            try:
                anchors, score = await self.triton.score(gm.model, str(gm.version), ids, mask)
            except TritonUnavailable as exc:
                metrics.TRITON_ERRORS.labels(group).inc()
                self.healthy = False
                delay = backoff.next_delay()
                log.warning("triton unavailable for %s (retry in %.2f s): %s",
                            gm.model, delay, exc)
                await asyncio.sleep(delay)
                continue
            except BackendError:
                metrics.TRITON_ERRORS.labels(group).inc()
                raise
            finally:
                metrics.IN_FLIGHT.dec()
            self.healthy = True
            metrics.TRITON_LATENCY.labels(group).observe(time.perf_counter() - t0)
            metrics.BATCH_SIZE.labels(group).observe(len(ids))
            if anchors.shape[1] != len(gm.anchors):
                raise BackendError(f"{gm.model} returned {anchors.shape[1]} anchors, "
                                   f"manifest lists {len(gm.anchors)}")
            return current, gm, anchors, score
