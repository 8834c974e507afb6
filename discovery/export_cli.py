"""``mira export RUN --corpus FILE --budget 0.5 --repo DIR``: students -> Triton repository."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from mira.cli import Context, fail

log = logging.getLogger(__name__)


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--corpus", required=True, type=click.Path(exists=True, path_type=Path),
              help="Calibration corpus (JSONL or Parquet of Document v1).")
@click.option("--repo", "repo", type=click.Path(path_type=Path), default=Path("model_repository"),
              show_default=True, help="Model repository to write (new versions only).")
@click.option("--budget", type=float, help="Share of tokens to keep, in (0, 1] [0.5].")
@click.option("--flavour", type=click.Choice(["python", "onnxruntime"]),
              help="config.pbtxt flavour: python (CPU, onnxruntime inside) or onnxruntime (GPU).")
@click.option("--calibration-docs", type=int, help="Documents sampled for thresholds [2000].")
@click.option("--seed", type=int, help="Calibration sample seed [0].")
@click.option("--max-batch-size", type=int, help="Triton max_batch_size [128].")
@click.option("--instances", type=int, help="Triton instances per model [1].")
@click.option("--execution-env", type=str, help="python flavour: EXECUTION_ENV_PATH tarball.")
@click.option("--parity-tol", type=float, help="Max abs ONNX-vs-torch difference [1e-4].")
@click.pass_obj
def export(obj: Context, run_dir: Path, corpus: Path, repo: Path, **options: Any) -> None:
    """Export RUN_DIR's students to ONNX, calibrate per-source thresholds, write the repo."""
    from discovery.export import ExportOptions
    from discovery.export_run import export_run
    from discovery.onnx_export import ParityError

    settings = obj.settings({"export": options})
    opts = ExportOptions(**settings.export.model_dump())
    try:
        manifest, retention = export_run(run_dir, corpus, repo, opts)
    except (ValueError, FileNotFoundError, FileExistsError, ParityError) as exc:
        fail(str(exc), 1)
    click.echo(retention.table())
    for _group, gm in sorted(manifest.groups.items()):
        click.echo(f"{gm.model} version {gm.version}: anchors {len(gm.anchors)}")
    click.echo(f"repository: {repo} (manifest {repo / 'mira_manifest.json'}); "
               f"kept-token share on calibration {retention.kept_share:.3f} "
               f"(budget {retention.budget:.3f})")
