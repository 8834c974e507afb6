"""Reliability-aware aggregation: anchor weights from held-out student-teacher agreement.

Rule (ours): ``w_k = max(rho_k, 0) / sum_j max(rho_j, 0)`` where ``rho_k`` is the held-out
Spearman correlation of anchor k (NaN counts as 0).  Anchors the student cannot predict get weight
0.  If no anchor has positive agreement, the weights are uniform ``1/K`` (nothing is known to be
more reliable than anything else, so the aggregate is the plain mean of the anchors).
The aggregate score is ``sum_k w_k * anchor_k`` (on the 0-5 anchor scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

WEIGHTS_RULE = "spearman clipped at 0, normalised to sum 1; all <= 0 -> uniform"


def reliability_weights(agreement: Sequence[float]) -> list[float]:
    """Weights summing to 1 from per-anchor agreement (see module docstring)."""
    if not agreement:
        raise ValueError("need at least one anchor")
    clipped = [0.0 if (math.isnan(a) or a <= 0) else float(a) for a in agreement]
    total = sum(clipped)
    if total <= 0:
        return [1.0 / len(clipped)] * len(clipped)
    return [c / total for c in clipped]


def aggregate(anchors: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of anchor scores: [N, K] x [K] -> float32 [N]."""
    w = np.asarray(weights, dtype=np.float32)
    if anchors.ndim != 2 or anchors.shape[1] != w.shape[0]:
        raise ValueError(f"anchors {anchors.shape} do not match {w.shape[0]} weights")
    return (anchors.astype(np.float32) @ w).astype(np.float32)
