"""Step 3b: distil the teacher's anchor scores of one group into a small encoder student.

Reads ``<run>/annotations/<group>.jsonl`` (Annotation per line) and the group's rubric, splits by
document (held-out fraction, seed), precomputes the frozen part of the encoder once, trains the
last ``trainable_layers`` layers + a linear head (masked MSE, early stopping on held-out loss) and
writes ``<run>/students/<group>/{student.safetensors, student.json, metrics.json}``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from discovery.distill.aggregate import WEIGHTS_RULE, reliability_weights
from discovery.distill.data import (
    anchor_names,
    evaluate,
    read_annotations,
    split_by_doc,
    stopping_split,
    targets,
)
from mira.contracts import AnchorMetrics, Annotation, StudentCard
from mira.settings import DistillSettings

log = logging.getLogger(__name__)


def distill_group(run_dir: Path, group: str, cfg: DistillSettings) -> StudentCard:
    """Train, evaluate and save the student of one group; returns its card."""
    from discovery.distill.train import train_student

    path = run_dir / "annotations" / f"{group}.jsonl"
    annotations, bad, dropped = _training_rows(path, cfg)
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
    weights = reliability_weights(
        [stats[a]["spearman"] for a in anchors], [stats[a]["n"] for a in anchors]
    )
    card = StudentCard(
        group=group,
        anchors=anchors,
        weights=weights,
        weights_rule=WEIGHTS_RULE,
        rubric_version=annotations[0].rubric_version,
        teacher=annotations[0].teacher,
        backbone="sentence-transformers/all-MiniLM-L6-v2",
        max_length=cfg.max_length,
        max_chars=cfg.max_chars,
        trainable_layers=cfg.trainable_layers,
        seed=cfg.seed,
        n_train=len(fit_rows),
        n_heldout=len(ho),
        n_stopping=len(stop),
        early_stopping=stop_on,
        epochs=fit.epochs,
        best_epoch=fit.best_epoch,
        train_seconds=round(seconds, 2),
        skipped_lines=bad,
        dropped_flagged=dropped,
        metrics={
            a: AnchorMetrics(weight=w, **stats[a]) for a, w in zip(anchors, weights, strict=True)
        },
    )
    save_outputs(run_dir / "students" / group, card, fit.model, cfg.trainable_layers)
    return card


def _training_rows(path: Path, cfg: DistillSettings) -> tuple[list[Annotation], list[str], int]:
    """Valid annotations (without injection-flagged ones if ``cfg.drop_flagged``), the bad
    lines, and how many flagged rows were left out."""
    annotations, bad = read_annotations(path)
    if not cfg.drop_flagged:
        return annotations, bad, 0
    kept = [a for a in annotations if not a.flags]
    if len(kept) < len(annotations):
        log.warning(
            "%s: %d annotations of documents that address the teacher left out (drop_flagged)",
            path,
            len(annotations) - len(kept),
        )
    return kept, bad, len(annotations) - len(kept)


def save_outputs(out: Path, card: StudentCard, model: Any, trainable_layers: int) -> None:
    from discovery.distill.student import save_student

    out.mkdir(parents=True, exist_ok=True)
    model.agg.copy_(_tensor(card.weights))
    save_student(model, trainable_layers, out / "student.safetensors")
    (out / "student.json").write_text(card.model_dump_json(indent=2) + "\n", "utf-8")
    metrics = {
        "group": card.group,
        "weights_rule": card.weights_rule,
        "anchors": {k: v.model_dump() for k, v in card.metrics.items()},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")


def _tensor(values: list[float]) -> Any:
    import torch

    return torch.tensor(values, dtype=torch.float32)


def metrics_table(card: StudentCard) -> str:
    """A plain-text table of the held-out metrics (logged by the CLI)."""
    rows = [
        f"{'anchor':32} {'n':>4} {'spearman':>9} {'95% interval':>14} {'mae':>6} "
        f"{'base_mae':>8} {'weight':>6}"
    ]
    for name, m in card.metrics.items():
        rows.append(
            f"{name[:32]:32} {m.n:>4} {m.spearman:>9.3f} "
            f"{f'{m.spearman_low:.2f}..{m.spearman_high:.2f}':>14} {m.mae:>6.3f} "
            f"{m.baseline_mae:>8.3f} {m.weight:>6.3f}"
        )
    return "\n".join(rows)


def distill_all(run_dir: Path, cfg: DistillSettings) -> list[str]:
    """Train every group that has annotations; returns the trained groups."""
    groups = sorted(p.stem for p in (run_dir / "annotations").glob("*.jsonl"))
    trained = []
    for group in groups:
        try:
            card = distill_group(run_dir, group, cfg)
        except ValueError as exc:  # e.g. fewer than 2 annotated documents
            log.warning("no student for group %s: %s", group, exc)
            continue
        log.info("student %s (%.1f s)\n%s", group, card.train_seconds, metrics_table(card))
        trained.append(group)
    if not trained:
        raise ValueError(f"no group of {run_dir} could be distilled")
    return trained
