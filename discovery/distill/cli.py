"""``mira distill RUN``: one student per group of a discovery run."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options

log = logging.getLogger(__name__)


def run_groups(run_dir: Path, groups: tuple[str, ...]) -> list[str]:
    found = sorted(p.stem for p in (run_dir / "annotations").glob("*.jsonl"))
    if not found:
        fail(f"no annotations in {run_dir / 'annotations'}: run `mira discover` first", 1)
    unknown = sorted(set(groups) - set(found))
    if unknown:
        fail(f"groups without annotations: {', '.join(unknown)} (have: {', '.join(found)})")
    return list(groups) or found


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--group", "groups", multiple=True, help="Only these groups (repeatable).")
@settings_options("distill")
@click.pass_obj
def distill(obj: Context, run_dir: Path, groups: tuple[str, ...], **options: Any) -> None:
    """Train a MiniLM student per group on the teacher's annotations of RUN_DIR.

    Writes RUN_DIR/students/<group>/{student.safetensors,student.json,metrics.json} and prints
    held-out Spearman and MAE per anchor against a mean predictor.
    """
    from discovery.distill.stage import distill_group, metrics_table

    cfg = obj.settings(overrides(options)).distill
    for group in run_groups(run_dir, groups):
        try:
            card = distill_group(run_dir, group, cfg)
        except (ValueError, FileNotFoundError) as exc:
            fail(f"group {group}: {exc}", 1)
        table = metrics_table(card)
        log.info(
            "student %s: %d train / %d held-out docs, %.1f s\n%s",
            group,
            card.n_train,
            card.n_heldout,
            card.train_seconds,
            table,
        )
        click.echo(
            f"{group}: {card.n_train} train / {card.n_heldout} held-out docs, "
            f"{card.train_seconds:.1f} s, weights "
            + ", ".join(f"{a}={w:.2f}" for a, w in zip(card.anchors, card.weights, strict=True))
        )
    click.echo(f"students written to {run_dir / 'students'}")
