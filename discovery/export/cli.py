"""``mira export RUN --corpus FILE --budget 0.5 --repo DIR``: students -> Triton repository."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options

log = logging.getLogger(__name__)


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--corpus",
    required=True,
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Calibration corpus: JSONL or Parquet of Document v1, or a folder (repeatable).",
)
@click.option(
    "--repo",
    "repo",
    type=click.Path(path_type=Path),
    default=Path("model_repository"),
    show_default=True,
    help="Model repository to write (new versions only).",
)
@settings_options("export")
@click.pass_obj
def export(
    obj: Context, run_dir: Path, corpus: tuple[Path, ...], repo: Path, **options: Any
) -> None:
    """Export RUN_DIR's students to ONNX, calibrate per-source thresholds, write the repo."""
    from discovery.export.onnx import ParityError
    from discovery.export.run import export_run

    settings = obj.settings(overrides(options))
    try:
        manifest, cal = export_run(
            run_dir, list(corpus), repo, settings.export, settings.engine, settings.document
        )
    except (ValueError, FileNotFoundError, FileExistsError, ParityError) as exc:
        fail(str(exc), 1)
    click.echo(cal.retention.table())
    for _group, gm in sorted(manifest.groups.items()):
        click.echo(f"{gm.model} version {gm.version}: anchors {len(gm.anchors)}")
    click.echo(
        f"repository: {repo} (manifest {repo / 'mira_manifest.json'}); "
        f"kept-token share on calibration {cal.retention.kept_share:.3f} "
        f"(budget {cal.retention.budget:.3f}); pre-cut shortens "
        f"{cal.token_loss_share:.1%} of documents ({cal.tokens_lost_share:.2%} of "
        "their tokens)"
    )
