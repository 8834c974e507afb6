"""Calibration for ``mira export``: a sample of the corpus scored through the one engine.

1. A reservoir sample of valid documents (the one reader and admission; refused records are
   counted by reason).
2. Per source, characters per student token, measured on the sample; the scorer cuts texts to
   ``max_length x ratio x pre_cut_margin`` characters before tokenizing, and the share of
   documents that lose tokens by that cut is measured here.
3. Each document scored by its group's student exactly as the scorer will (same pre-cut, same
   engine), then per-source thresholds for the token budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discovery.export.thresholds import Retention, source_thresholds
from mira.contracts import Document
from mira.engine.admit import Invalid, admit
from mira.engine.backend import ModelRef
from mira.engine.engine import Engine, Scores
from mira.engine.tokenize import BatchTokenizer, pre_cut
from mira.reader import read_records
from mira.settings import DocumentSettings
from mira.tokens import approx_tokens

log = logging.getLogger(__name__)
RATIO_QUANTILE = 0.9  # a source's ratio covers 90% of its documents before the margin


@dataclass
class Calibration:
    retention: Retention
    default_threshold: float | None
    chars_per_token: dict[str, float]
    default_chars_per_token: float
    token_loss_share: float  # documents whose student input the pre-cut changes
    tokens_lost_share: float  # student tokens the pre-cut removes
    rows: list[dict[str, object]] = field(default_factory=list)


def sample_corpus(
    inputs: Iterable[Path | str], n: int, seed: int, limits: DocumentSettings
) -> list[Document]:
    """Reservoir sample of ``n`` valid documents (refused records are counted and logged)."""
    rng = np.random.default_rng(seed)
    sample: list[Document] = []
    seen = 0
    refused: Counter[str] = Counter()
    for rec in read_records(inputs, limits.max_bytes):
        doc = admit(rec.raw, limits, rec.size)
        if isinstance(doc, Invalid):
            refused[doc.reason.value] += 1
            continue
        seen += 1
        if len(sample) < n:
            sample.append(doc)
        elif (j := int(rng.integers(0, seen))) < n:
            sample[j] = doc
    log.info(
        "calibration sample: %d of %d valid documents (refused: %s)",
        len(sample),
        seen,
        dict(refused) or "none",
    )
    return sample


def chars_per_token(docs: list[Document], tok: BatchTokenizer) -> tuple[dict[str, float], float]:
    """Per source (and overall) the 90th percentile of characters per token of the cut text."""
    cuts = [d.text[: tok.max_chars] for d in docs]
    ratios: dict[str, list[float]] = {}
    for doc, cut, n in zip(docs, cuts, tok.count_full(cuts), strict=True):
        ratios.setdefault(doc.source, []).append(len(cut) / max(1, n))
    per = {s: float(np.quantile(r, RATIO_QUANTILE)) for s, r in ratios.items()}
    every = [r for rs in ratios.values() for r in rs] or [4.0]
    return per, float(np.quantile(every, RATIO_QUANTILE))


def token_loss(
    docs: list[Document],
    tok: BatchTokenizer,
    cpt: Mapping[str, float],
    default_cpt: float,
    margin: float,
) -> tuple[float, float]:
    """What the pre-cut costs the student: (share of documents whose student input ids change,
    share of student tokens lost), against the same texts cut at ``max_chars`` only."""
    if not docs:
        return 0.0, 0.0
    cuts = [
        pre_cut(d.text, cpt.get(d.source, default_cpt), tok.max_length, tok.max_chars, margin)
        for d in docs
    ]
    changed = lost = total = 0
    for start in range(0, len(docs), 256):
        full_ids, full_mask = tok.encode([d.text for d in docs[start : start + 256]])
        cut_ids, cut_mask = tok.encode(cuts[start : start + 256])
        for fi, fm, ci, cm in zip(full_ids, full_mask, cut_ids, cut_mask, strict=True):
            n_full, n_cut = int(fm.sum()), int(cm.sum())
            changed += n_cut != n_full or not np.array_equal(fi[:n_full], ci[:n_cut])
            lost += n_full - n_cut
            total += n_full
    return changed / len(docs), lost / max(1, total)


async def score_sample(
    engine: Engine,
    docs: list[Document],
    groups: list[str],
    models: Mapping[str, tuple[ModelRef, int]],
    texts: list[str],
) -> np.ndarray:
    """Aggregate score of each document by its group's model (batches of 32 per group)."""
    scores = np.zeros(len(docs), dtype=np.float32)
    for group in sorted(set(groups)):
        ref, k = models[group]
        idx = [i for i, g in enumerate(groups) if g == group]
        for s in range(0, len(idx), 32):
            part = idx[s : s + 32]
            results = await engine.infer(ref, k, [texts[i] for i in part], group)
            for i, res in zip(part, results, strict=True):
                if not isinstance(res, Scores):
                    raise ValueError(
                        f"calibration document {docs[i].id} cannot be scored: "
                        f"{res.reason.value} {res.detail}"
                    )
                scores[i] = res.score
    return scores


def calibrate(
    docs: list[Document],
    mapping: Mapping[str, str],
    fallback: str,
    engine: Engine,
    tok: BatchTokenizer,
    models: Mapping[str, tuple[ModelRef, int]],
    budget: float,
    margin: float,
) -> Calibration:
    """Measure the pre-cut, score the sample through ``engine``, set per-source thresholds."""
    if not docs:
        raise ValueError("the calibration corpus has no valid documents")
    cpt, default_cpt = chars_per_token(docs, tok)
    texts = [
        pre_cut(d.text, cpt.get(d.source, default_cpt), tok.max_length, tok.max_chars, margin)
        for d in docs
    ]
    groups = [mapping.get(d.source, fallback) for d in docs]
    scores = asyncio.run(_score_and_close(engine, docs, groups, models, texts))
    tokens = [approx_tokens(d.text) for d in docs]
    retention = source_thresholds([d.source for d in docs], scores.tolist(), tokens, budget)
    fb = [i for i, g in enumerate(groups) if g == fallback]
    default = None
    if fb:
        pooled = source_thresholds(
            ["*"] * len(fb),
            [float(scores[i]) for i in fb],
            [tokens[i] for i in fb],
            budget,
            fix_up=False,
        )
        default = pooled.thresholds["*"]
    rows: list[dict[str, object]] = [
        {
            "id": d.id,
            "source": d.source,
            "group": g,
            "score": float(s),
            "tokens": t,
            "decision": "accept" if s >= retention.thresholds[d.source] else "reject",
        }
        for d, g, s, t in zip(docs, groups, scores, tokens, strict=True)
    ]
    changed, lost = token_loss(docs, tok, cpt, default_cpt, margin)
    log.info(
        "pre-cut (margin %.2f): %.2f%% of documents change, %.3f%% of tokens lost",
        margin,
        100 * changed,
        100 * lost,
    )
    return Calibration(retention, default, cpt, default_cpt, changed, lost, rows)


async def _score_and_close(
    engine: Engine,
    docs: list[Document],
    groups: list[str],
    models: Mapping[str, tuple[ModelRef, int]],
    texts: list[str],
) -> np.ndarray:
    try:
        return await score_sample(engine, docs, groups, models, texts)
    finally:
        await engine.backend.close()
        engine.tokens.close()
