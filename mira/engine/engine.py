"""The scoring engine: tokenize, infer with isolation, check shapes, decide.

``Engine.infer`` takes the texts of one group's batch and returns, per text, its scores or a
dead-letter reason for that text alone.  Infrastructure failures (backend down, model mismatch,
broken tokenizer pool) are retried with backoff while ``healthy`` is False, and are raised as
``BackendUnavailable`` only when ``max_attempts`` runs out (``mira filter``; the streaming scorer
retries forever).  A batch the backend refuses is split in halves until the documents at fault
are found; a single document is blamed only if a known-good canary text scores at that moment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from mira import metrics
from mira.contracts import DeadLetterReason, Document, RepositoryManifest, ScoredDocument
from mira.engine.admit import Invalid
from mira.engine.backend import (
    BackendUnavailable,
    BatchRejected,
    ModelMismatch,
    ModelRef,
    ScoringBackend,
)
from mira.engine.backoff import Backoff
from mira.engine.route import decide
from mira.engine.tokenize import pre_cut
from mira.engine.tokenpool import TokenizerPool
from mira.engine.triton import Ambiguous

log = logging.getLogger(__name__)
CANARY = "def canary():\n    return 'a short, ordinary document that every model can score'\n"


@dataclass(frozen=True, slots=True)
class Scores:
    anchors: np.ndarray  # [K] float32
    score: float


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float
    max_s: float
    max_attempts: int | None  # None: retry infrastructure failures forever
    ambiguous_retries: int  # Ambiguous failures of one batch before it is split


class Engine:
    def __init__(self, backend: ScoringBackend, tokens: TokenizerPool, retry: RetryPolicy) -> None:
        self.backend = backend
        self.tokens = tokens
        self.retry = retry
        self.healthy = True

    async def infer(
        self, model: ModelRef, n_anchors: int, texts: Sequence[str], label: str
    ) -> list[Scores | Invalid]:
        """Scores per text (already pre-cut), or the reason that text alone cannot be scored."""
        out: list[Scores | Invalid | None] = [None] * len(texts)
        ok, ids, mask = await self._tokenize(texts, out, label)
        if ok:
            results = await self._score(model, n_anchors, ids, mask, label)
            for i, res in zip(ok, results, strict=True):
                out[i] = res
        return [r for r in out if r is not None]

    # ------------------------------------------------------------------ tokenizer stage
    async def _tokenize(
        self, texts: Sequence[str], out: list[Scores | Invalid | None], label: str
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        try:
            ids, mask = await self._encode(texts)
            metrics.TOKENIZE_SECONDS.labels(label).observe(time.perf_counter() - t0)
            return list(range(len(texts))), ids, mask
        except (BackendUnavailable, asyncio.CancelledError):
            raise
        except Exception as exc:  # classified below: only what fails alone is the document's
            log.warning("tokenizing a batch of %d failed (%s): trying one by one", len(texts), exc)
        ok = []
        for i, text in enumerate(texts):
            try:
                await self._encode([text])
                ok.append(i)
            except (BackendUnavailable, asyncio.CancelledError):
                raise
            except Exception as exc:  # this text alone fails: the document's fault
                out[i] = Invalid(DeadLetterReason.TOKENIZE_FAILED, f"{type(exc).__name__}: {exc}")
        if not ok:
            await self._tokenizer_canary()
        ids, mask = await self._encode([texts[i] for i in ok]) if ok else (np.zeros((0, 0)),) * 2
        return ok, ids, mask

    async def _tokenizer_canary(self) -> None:
        """Every text failed alone: blame them only if the canary text tokenizes."""
        try:
            await self._encode([CANARY])
        except (BackendUnavailable, asyncio.CancelledError):
            raise
        except Exception as exc:  # the tokenizer itself is broken: infrastructure
            self.healthy = False
            raise BackendUnavailable(f"the tokenizer fails on the canary too: {exc}") from exc

    async def _encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        try:
            return await self.tokens.encode(texts)
        except BrokenProcessPool:  # a worker died (OOM kill): infrastructure, rebuild and redo
            log.error("tokenizer pool broken: restarting it")
            self.tokens.restart()
            try:
                return await self.tokens.encode(texts)
            except BrokenProcessPool as exc:
                raise BackendUnavailable(f"tokenizer pool broken twice: {exc}") from exc

    # ------------------------------------------------------------------ model stage
    async def _score(
        self, model: ModelRef, k: int, ids: np.ndarray, mask: np.ndarray, label: str
    ) -> list[Scores | Invalid]:
        try:
            return _rows(*await self._call(model, k, ids, mask, label))
        except BatchRejected as exc:
            if not await self._canary_ok(model, k, label):
                self.healthy = False
                raise BackendUnavailable(f"{model.name}: the canary fails too: {exc}") from exc
            return await self._bisect(model, k, ids, mask, label, exc)

    async def _bisect(
        self,
        model: ModelRef,
        k: int,
        ids: np.ndarray,
        mask: np.ndarray,
        label: str,
        exc: BatchRejected,
    ) -> list[Scores | Invalid]:
        """Split a refused batch until each refused document stands alone (the canary passed)."""
        if len(ids) == 1:
            return [Invalid(DeadLetterReason.INFERENCE_FAILED, str(exc)[:500])]
        out: list[Scores | Invalid] = []
        for part in (slice(0, len(ids) // 2), slice(len(ids) // 2, None)):
            try:
                out += _rows(*await self._call(model, k, ids[part], mask[part], label))
            except BatchRejected as inner:
                out += await self._bisect(model, k, ids[part], mask[part], label, inner)
        return out

    async def _call(
        self, model: ModelRef, k: int, ids: np.ndarray, mask: np.ndarray, label: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """One batch through the backend, retrying infrastructure failures with backoff."""
        backoff = Backoff(self.retry.initial_s, self.retry.max_s)
        ambiguous = 0
        while True:
            t0 = time.perf_counter()
            metrics.IN_FLIGHT.inc()
            try:
                anchors, score = await self.backend.score(model, ids, mask)
                result = _checked(model, k, len(ids), anchors, score)
            except BackendUnavailable as exc:
                metrics.TRITON_ERRORS.labels(label).inc()
                ambiguous += isinstance(exc, Ambiguous)
                if isinstance(exc, Ambiguous) and ambiguous > self.retry.ambiguous_retries:
                    raise BatchRejected(str(exc)) from exc
                await self._wait(backoff, model, exc)
                continue
            finally:
                metrics.IN_FLIGHT.dec()
            self.healthy = True
            metrics.TRITON_LATENCY.labels(label).observe(time.perf_counter() - t0)
            metrics.BATCH_SIZE.labels(label).observe(len(ids))
            return result

    async def _wait(self, backoff: Backoff, model: ModelRef, exc: BackendUnavailable) -> None:
        self.healthy = False
        if self.retry.max_attempts is not None and backoff.attempts + 1 >= self.retry.max_attempts:
            raise exc
        delay = backoff.next_delay()
        log.warning(
            "%s unavailable (retry %d in %.2f s): %s", model.name, backoff.attempts, delay, exc
        )
        await asyncio.sleep(delay)

    async def _canary_ok(self, model: ModelRef, k: int, label: str) -> bool:
        try:
            ids, mask = await self._encode([CANARY])
            await self._call(model, k, ids, mask, label)
        except (BatchRejected, BackendUnavailable):
            return False
        return True


def _rows(anchors: np.ndarray, score: np.ndarray) -> list[Scores | Invalid]:
    return [Scores(a, float(s)) for a, s in zip(anchors, score, strict=True)]


def _checked(
    model: ModelRef, k: int, n: int, anchors: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Both outputs must match the manifest: anchors [n, k] and one score per document."""
    if anchors.shape != (n, k) or score.size != n:
        raise ModelMismatch(
            f"{model.name} v{model.version}: outputs {anchors.shape} and "
            f"{score.shape} for {n} documents; the manifest lists {k} anchors"
        )
    return anchors, score.reshape(n)


async def score_documents(
    engine: Engine,
    manifest: RepositoryManifest,
    group: str,
    docs: Sequence[Document],
    margin: float,
) -> list[ScoredDocument | Invalid]:
    """infer + decide for one group's batch (the flow ``mira filter`` and ``mira score`` share)."""
    gm = manifest.groups[group]
    texts = [
        pre_cut(
            d.text,
            manifest.chars_per_token_of(d.source),
            manifest.max_length,
            manifest.max_chars,
            margin,
        )
        for d in docs
    ]
    results = await engine.infer(ModelRef(gm.model, gm.version), len(gm.anchors), texts, group)
    out: list[ScoredDocument | Invalid] = []
    for doc, res in zip(docs, results, strict=True):
        if isinstance(res, Invalid):
            out.append(res)
        else:
            named = dict(zip(gm.anchors, res.anchors.tolist(), strict=True))
            out.append(decide(doc, group, named, res.score, manifest))
    return out
