"""``mira distill RUN``: one student per group of a discovery run."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from mira.cli import Context, fail

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
@click.option("--heldout", type=float, help="Held-out fraction of documents [0.2].")
@click.option("--seed", type=int, help="Split and init seed [0].")
@click.option("--max-length", type=int, help="Tokens per document [128].")
@click.option("--max-chars", type=int, help="Characters kept before tokenizing [2048].")
@click.option("--trainable-layers", type=int,
              help="Encoder layers to fine-tune, from the top; 0 = frozen encoder [0].")
@click.option("--max-epochs", type=int, help="Epoch limit [40].")
@click.option("--patience", type=int, help="Early-stopping patience in epochs [6].")
@click.option("--batch-size", type=int, help="Training batch size [16].")
@click.option("--lr", type=float, help="Head learning rate (layers get lr/100) [0.01].")
@click.option("--device", type=str, help="auto | cpu | cuda [auto].")
@click.pass_obj
def distill(obj: Context, run_dir: Path, groups: tuple[str, ...], **options: Any) -> None:
    """Train a MiniLM student per group on the teacher's annotations of RUN_DIR.

    Writes RUN_DIR/students/<group>/{student.safetensors,student.json,metrics.json} and prints
    held-out Spearman and MAE per anchor against a mean predictor.
    """
    from discovery.distill import DistillConfig, distill_group, metrics_table

    settings = obj.settings({"distill": options})
    cfg = DistillConfig(**settings.distill.model_dump())
    for group in run_groups(run_dir, groups):
        try:
            card = distill_group(run_dir, group, cfg)
        except (ValueError, FileNotFoundError) as exc:
            fail(f"group {group}: {exc}", 1)
        table = metrics_table(card)
        log.info("student %s: %d train / %d held-out docs, %.1f s\n%s", group, card.n_train,
                 card.n_heldout, card.train_seconds, table)
        click.echo(f"{group}: {card.n_train} train / {card.n_heldout} held-out docs, "
                   f"{card.train_seconds:.1f} s, weights "
                   + ", ".join(f"{a}={w:.2f}" for a, w in zip(card.anchors, card.weights,
                                                               strict=True)))
    click.echo(f"students written to {run_dir / 'students'}")
