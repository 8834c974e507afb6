"""Reliability-aware aggregation: anchor weights from held-out student-teacher agreement.

Rule (ours): an anchor's weight is the *lower end* of the 95% confidence interval of its held-out
Spearman correlation, clipped at 0 and normalised to sum 1.  The interval comes from Fisher's z
transform with the variance 1.06 / (n - 3) that Fieller, Hartley and Pearson (1957) give for
Spearman's rho, so an anchor earns weight only in proportion to the evidence: rho = 0.5 on 8
held-out documents earns nothing (interval -0.34..0.90), the same rho on 200 documents earns
0.38.  Fewer than 4 held-out scores, or NaN, give no evidence (interval -1..1).  If no anchor's
lower bound is positive, the weights are uniform ``1/K`` (nothing is known to be more reliable
than anything else, so the aggregate is the plain mean).  The aggregate score is
``sum_k w_k * anchor_k`` (on the 0-5 anchor scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
WEIGHTS_RULE = (
    "lower end of the 95% Fisher-z interval of held-out Spearman (variance 1.06/(n-3)), "
    "clipped at 0, normalised to sum 1; none positive -> uniform"
)


def spearman_interval(rho: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided confidence interval of a Spearman correlation measured on ``n`` pairs."""
    if n < 4 or math.isnan(rho):
        return -1.0, 1.0
    z = math.atanh(max(-0.9999, min(0.9999, rho)))
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(1.06 / (n - 3))
    return math.tanh(z - half), math.tanh(z + half)


def reliability_weights(agreement: Sequence[float], n: Sequence[int]) -> list[float]:
    """Weights summing to 1 from per-anchor held-out Spearman and its number of documents."""
    if not agreement:
        raise ValueError("need at least one anchor")
    if len(agreement) != len(n):
        raise ValueError("one held-out size per anchor")
    lows = [max(0.0, spearman_interval(a, k)[0]) for a, k in zip(agreement, n, strict=True)]
    total = sum(lows)
    if total <= 0:
        return [1.0 / len(lows)] * len(lows)
    return [lo / total for lo in lows]


def aggregate(anchors: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of anchor scores: [N, K] x [K] -> float32 [N]."""
    w = np.asarray(weights, dtype=np.float32)
    if anchors.ndim != 2 or anchors.shape[1] != w.shape[0]:
        raise ValueError(f"anchors {anchors.shape} do not match {w.shape[0]} weights")
    return (anchors.astype(np.float32) @ w).astype(np.float32)
