"""Step 3b: distil the teacher's anchor scores of one group into a small encoder student.

Reads ``<run>/annotations/<group>.jsonl`` (Annotation per line) and the group's rubric, splits by
document (held-out fraction, seed), precomputes the frozen part of the encoder once, trains the
last ``trainable_layers`` layers + a linear head (masked MSE, early stopping on held-out loss) and
writes ``<run>/students/<group>/{student.safetensors, student.json, metrics.json}``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from discovery.aggregate import WEIGHTS_RULE, reliability_weights, spearman_interval
from mira.contracts import AnchorMetrics, Annotation, RubricArtifact, StudentCard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistillConfig:
    heldout: float = 0.2
    seed: int = 0
    max_length: int = 128
    max_chars: int = 2048
    trainable_layers: int = 0
    max_epochs: int = 40
    patience: int = 6
    batch_size: int = 16
    lr: float = 1e-2
    device: str = "auto"


def read_annotations(path: Path) -> tuple[list[Annotation], list[str]]:
    """Valid annotations, plus ``file:line: why`` for every line that is not one."""
    good: list[Annotation] = []
    bad: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                good.append(Annotation.model_validate_json(line))
            except ValueError as exc:
                bad.append(f"{path}:{n}: {str(exc).splitlines()[0]}")
    for item in bad:
        log.warning("skipping bad annotation %s", item)
    return good, bad


def anchor_names(run_dir: Path, group: str, annotations: list[Annotation]) -> list[str]:
    """The rubric's anchors in rubric order (else every anchor the teacher scored, sorted)."""
    rubric = run_dir / "rubrics" / f"{group}.json"
    if rubric.is_file():
        return RubricArtifact.model_validate_json(rubric.read_text("utf-8")).anchor_names()
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


def evaluate(pred: np.ndarray, y: np.ndarray, m: np.ndarray, base: np.ndarray,
             anchors: list[str]) -> dict[str, dict[str, Any]]:
    """Per-anchor held-out Spearman and MAE, and the MAE of the constant ``base`` predictor."""
    out: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(anchors):
        sel = m[:, k] > 0
        yk, pk = y[sel, k], pred[sel, k]
        n = int(sel.sum())
        rho = spearman(pk, yk)
        low, high = spearman_interval(rho, n)
        out[name] = {
            "spearman": rho, "spearman_low": low, "spearman_high": high,
            "mae": float(np.abs(pk - yk).mean()) if n else float("nan"),
            "baseline_mae": float(np.abs(base[k] - yk).mean()) if n else float("nan"),
            "n": n,
        }
    return out


MIN_DOCS_FOR_VALIDATION = 10


def stopping_split(doc_ids: list[str], train: np.ndarray, held: np.ndarray, cfg: DistillConfig
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


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def distill_group(run_dir: Path, group: str, cfg: DistillConfig) -> StudentCard:
    """Train, evaluate and save the student of one group; returns its card."""
    from discovery.student_train import train_student

    path = run_dir / "annotations" / f"{group}.jsonl"
    annotations, bad = read_annotations(path)
    anchors = anchor_names(run_dir, group, annotations)
    if not annotations or not anchors:
        raise ValueError(f"{path}: no usable annotations")
    y, m = targets(annotations, anchors)
    doc_ids = [a.doc_id for a in annotations]
    tr, ho = split_by_doc(doc_ids, cfg.heldout, cfg.seed)
    fit_rows, stop, stop_on = stopping_split(doc_ids, tr, ho, cfg)
    t0 = time.perf_counter()
    fit = train_student([a.text for a in annotations], y, m, fit_rows, stop, ho, cfg)
    seconds = time.perf_counter() - t0
    base = (y[tr] * m[tr]).sum(0) / np.maximum(m[tr].sum(0), 1)
    stats = evaluate(fit.heldout_pred, y[ho], m[ho], base, anchors)
    weights = reliability_weights([stats[a]["spearman"] for a in anchors],
                                  [stats[a]["n"] for a in anchors])
    card = StudentCard(
        group=group, anchors=anchors, weights=weights, weights_rule=WEIGHTS_RULE,
        rubric_version=annotations[0].rubric_version, teacher=annotations[0].teacher,
        backbone="sentence-transformers/all-MiniLM-L6-v2", max_length=cfg.max_length,
        max_chars=cfg.max_chars, trainable_layers=cfg.trainable_layers, seed=cfg.seed,
        n_train=len(fit_rows), n_heldout=len(ho), n_stopping=len(stop), early_stopping=stop_on,
        epochs=fit.epochs, best_epoch=fit.best_epoch,
        train_seconds=round(seconds, 2), skipped_lines=bad,
        metrics={a: AnchorMetrics(weight=w, **stats[a]) for a, w in zip(anchors, weights,
                                                                        strict=True)},
    )
    save_outputs(run_dir / "students" / group, card, fit.model, cfg.trainable_layers)
    return card


def save_outputs(out: Path, card: StudentCard, model: Any, trainable_layers: int) -> None:
    from discovery.student import save_student

    out.mkdir(parents=True, exist_ok=True)
    model.agg.copy_(_tensor(card.weights))
    save_student(model, trainable_layers, out / "student.safetensors")
    (out / "student.json").write_text(card.model_dump_json(indent=2) + "\n", "utf-8")
    metrics = {"group": card.group, "weights_rule": card.weights_rule,
               "anchors": {k: v.model_dump() for k, v in card.metrics.items()}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")


def _tensor(values: list[float]) -> Any:
    import torch

    return torch.tensor(values, dtype=torch.float32)


def metrics_table(card: StudentCard) -> str:
    """A plain-text table of the held-out metrics (logged by the CLI)."""
    rows = [f"{'anchor':32} {'n':>4} {'spearman':>9} {'95% interval':>14} {'mae':>6} "
            f"{'base_mae':>8} {'weight':>6}"]
    for name, m in card.metrics.items():
        rows.append(f"{name[:32]:32} {m.n:>4} {m.spearman:>9.3f} "
                    f"{f'{m.spearman_low:.2f}..{m.spearman_high:.2f}':>14} {m.mae:>6.3f} "
                    f"{m.baseline_mae:>8.3f} {m.weight:>6.3f}")
    return "\n".join(rows)
