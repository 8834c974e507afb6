"""The data of distillation: annotations, targets, document-level splits, held-out metrics."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from discovery.distill.aggregate import spearman_interval
from mira.contracts import Annotation, ArtifactError, RubricArtifact, load_artifact
from mira.settings import DistillSettings

log = logging.getLogger(__name__)


def read_annotations(path: Path) -> tuple[list[Annotation], list[str]]:
    """Valid annotations, plus ``file:line: why`` for every line that is not one."""
    good: list[Annotation] = []
    bad: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                good.append(load_artifact(Annotation, line, f"{path}:{n}"))
            except ArtifactError as exc:
                bad.append(str(exc))
    for item in bad:
        log.warning("skipping bad annotation %s", item)
    return good, bad


def anchor_names(run_dir: Path, group: str, annotations: list[Annotation]) -> list[str]:
    """The rubric's anchors in rubric order (else every anchor the teacher scored, sorted)."""
    rubric = run_dir / "rubrics" / f"{group}.json"
    if rubric.is_file():
        return load_artifact(RubricArtifact, rubric.read_bytes(), str(rubric)).anchor_names()
    return sorted({a for ann in annotations for a in ann.scores})


def split_by_doc(doc_ids: list[str], heldout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, held-out); all rows of one document land on the same side."""
    unique = sorted(set(doc_ids))
    if len(unique) < 2:
        raise ValueError(f"need at least 2 annotated documents, got {len(unique)}")
    order = np.random.default_rng(seed).permutation(len(unique))
    n_held = min(len(unique) - 1, max(1, round(heldout * len(unique))))
    held = {unique[i] for i in order[:n_held]}
    rows = np.arange(len(doc_ids))
    is_held = np.array([d in held for d in doc_ids])
    return rows[~is_held], rows[is_held]


def targets(annotations: list[Annotation], anchors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Scores [N, K] (0 where missing) and a 0/1 mask of which scores the teacher gave."""
    y = np.zeros((len(annotations), len(anchors)), dtype=np.float32)
    m = np.zeros_like(y)
    for i, ann in enumerate(annotations):
        for k, name in enumerate(anchors):
            if name in ann.scores:
                y[i, k] = ann.scores[name]
                m[i, k] = 1.0
    return y, m


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation; 0.0 when undefined (fewer than 3 points or a constant)."""
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    rho = float(spearmanr(a, b).statistic)
    return 0.0 if math.isnan(rho) else rho


def evaluate(
    pred: np.ndarray, y: np.ndarray, m: np.ndarray, base: np.ndarray, anchors: list[str]
) -> dict[str, dict[str, Any]]:
    """Per-anchor held-out Spearman and MAE, and the MAE of the constant ``base`` predictor."""
    out: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(anchors):
        sel = m[:, k] > 0
        yk, pk = y[sel, k], pred[sel, k]
        n = int(sel.sum())
        rho = spearman(pk, yk)
        low, high = spearman_interval(rho, n)
        out[name] = {
            "spearman": rho,
            "spearman_low": low,
            "spearman_high": high,
            "mae": float(np.abs(pk - yk).mean()) if n else float("nan"),
            "baseline_mae": float(np.abs(base[k] - yk).mean()) if n else float("nan"),
            "n": n,
        }
    return out


MIN_DOCS_FOR_VALIDATION = 10


def stopping_split(
    doc_ids: list[str], train: np.ndarray, held: np.ndarray, cfg: DistillSettings
) -> tuple[np.ndarray, np.ndarray, Literal["validation", "heldout"]]:
    """Rows to fit, rows whose loss stops training, and which set that is.

    With at least ``MIN_DOCS_FOR_VALIDATION`` training documents a validation part is split off
    them (by document), so the held-out metrics stay untouched by early stopping; with fewer,
    early stopping uses the held-out documents (the card says so; metrics are then optimistic).
    """
    if len({doc_ids[i] for i in train}) < MIN_DOCS_FOR_VALIDATION:
        return train, held, "heldout"
    fit, val = split_by_doc([doc_ids[i] for i in train], cfg.heldout, cfg.seed + 1)
    return train[fit], train[val], "validation"
