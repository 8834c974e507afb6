"""``mira filter``: the embedded default (files in, in-process onnxruntime, files out).

Writes ``OUT/accepted.jsonl`` and ``OUT/rejected.jsonl`` (ScoredDocument per line),
``OUT/dead_letter.jsonl`` (DeadLetter with reason code and origin ``file:line``) and
``OUT/summary.json``; prints a table per source and group.  in = accepted + rejected + dead-letter.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options

log = logging.getLogger(__name__)


@click.command("filter")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model repository [the folder of scorer.manifest].",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder for accepted/rejected/dead_letter JSONL and summary.json.",
)
@settings_options("scorer", ["batch_size", "unknown_source"])
@settings_options("document", ["max_bytes"])
@settings_options("engine", ["ort_threads", "pre_cut_margin"])
@click.pass_obj
def filter_cmd(
    obj: Context, inputs: tuple[Path, ...], repo: Path | None, out: Path, **options: Any
) -> None:
    """Score JSONL/Parquet files (or directories, or - for stdin) of Document v1 and split
    them into accepted / rejected / dead-letter."""
    from mira.engine.backend import BackendUnavailable
    from mira.engine.build import local_engine
    from mira.repository import MANIFEST_FILE, ManifestError, load_manifest
    from scorer.filter import FilterPlan, filter_files

    settings = obj.settings(overrides(options))
    repo = repo or settings.scorer.manifest.parent
    missing = [str(p) for p in inputs if str(p) != "-" and not p.exists()]
    if missing:
        fail(f"no such input: {', '.join(missing)}")
    if not (repo / MANIFEST_FILE).is_file():
        fail(f"no {MANIFEST_FILE} in {repo}: run `mira export` or pass --repo")
    try:
        manifest, _ = load_manifest(repo / MANIFEST_FILE)
        engine = local_engine(repo, manifest, settings.engine)
    except (ManifestError, FileNotFoundError, ValueError) as exc:
        fail(f"cannot load repository {repo}: {exc}", 1)
    plan = FilterPlan.of(manifest, settings)
    try:
        stdin = sys.stdin.buffer
        summary = filter_files(engine, plan, inputs, out, stdin)
    except BackendUnavailable as exc:
        fail(f"inference failed for reasons outside the documents: {exc}", 1)
    click.echo(summary.table())
    click.echo(f"outputs in {out}")
