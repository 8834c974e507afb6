"""Closed-form ridge head: recovers a linear signal, shrinks noise, respects the score mask."""

from __future__ import annotations

import numpy as np

from discovery.distill.ridge import fit_anchor, fit_head


def test_recovers_a_linear_signal_and_shrinks_pure_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20))
    w_true = rng.normal(size=20)
    w, b, alpha = fit_anchor(x, x @ w_true + 3.0 + rng.normal(0, 0.1, 200))
    assert np.allclose(w, w_true, atol=0.05) and abs(b - 3.0) < 0.05 and alpha < 10
    w_noise, _, alpha_noise = fit_anchor(x, rng.normal(size=200))
    assert alpha_noise >= 100 and np.abs(w_noise).max() < 0.05


def test_head_uses_only_rows_the_teacher_scored() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 5))
    y = np.stack([x[:, 0] * 2, x[:, 1]], axis=1)
    m = np.ones_like(y)
    y[:10, 1], m[:10, 1] = 99.0, 0.0  # unscored: must not pull the fit
    w, b, _ = fit_head(x, y, m, np.arange(60))
    assert w.shape == (2, 5) and b.shape == (2,)
    assert abs(w[0, 0] - 2) < 0.1 and abs(w[1, 1] - 1) < 0.1 and abs(b[1]) < 0.1
