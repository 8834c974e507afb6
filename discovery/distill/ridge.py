"""Closed-form ridge head for a frozen encoder (``trainable_layers = 0``, the default).

With the encoder frozen the student is a linear model on pooled features, so gradient descent only
approximates what ridge regression computes exactly.  Per anchor, on the rows the teacher scored
among the training rows: centre features and scores, and pick the penalty ``alpha`` of ``ALPHAS``
with the lowest leave-one-out error (closed form through one SVD), so every training document both
fits the head and checks it; the held-out documents stay untouched.  Measured on 600 real
documents with the test-only learnable teacher (docs/distillation.md): held-out Spearman
0.96 / 0.85 / 0.87 against 0.94 / 0.82 / 0.85 for AdamW with early stopping on a validation split.
"""

from __future__ import annotations

import numpy as np

ALPHAS = np.logspace(-2, 4, 13)


def fit_anchor(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Weights, bias and the chosen alpha for one anchor."""
    if len(y) < 2:
        return np.zeros(x.shape[1]), float(y.mean()) if len(y) else 0.0, float("nan")
    mx, my = x.mean(axis=0), float(y.mean())
    u, s, vt = np.linalg.svd(x - mx, full_matrices=False)
    uy = u.T @ (y - my)
    best: tuple[float, float] | None = None
    for alpha in ALPHAS:
        shrink = s**2 / (s**2 + alpha)
        fitted = u @ (shrink * uy)
        hat = np.clip((u**2) @ shrink + 1.0 / len(y), 0.0, 0.999)  # + 1/n: the centring
        loo = float(np.mean(((y - my - fitted) / (1.0 - hat)) ** 2))
        if best is None or loo < best[0] - 1e-12:
            best = (loo, float(alpha))
    assert best is not None
    alpha = best[1]
    w = vt.T @ (s / (s**2 + alpha) * uy)
    return w, my - float(mx @ w), alpha


def fit_head(
    x: np.ndarray, y: np.ndarray, m: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Head weights [K, D] and bias [K] from pooled features ``x`` [N, D], scores ``y`` and
    mask ``m`` [N, K], fitted on ``rows``."""
    weights, bias, alphas = [], [], []
    for k in range(y.shape[1]):
        r = rows[m[rows, k] > 0]
        w, b, a = fit_anchor(x[r].astype(np.float64), y[r, k].astype(np.float64))
        weights.append(w)
        bias.append(b)
        alphas.append(a)
    return np.stack(weights), np.asarray(bias), alphas
