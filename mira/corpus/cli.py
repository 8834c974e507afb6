"""``mira corpus build|stats|sources``: build a real multi-source corpus and describe it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options


@click.group()
def corpus() -> None:
    """Build a multi-source Document v1 corpus from this machine's files, and describe corpora."""


@corpus.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("corpus.jsonl"),
    show_default=True,
    help="Output file: .jsonl, or .parquet (needs pyarrow).",
)
@settings_options("corpus")
@click.option("--source", "only", multiple=True, help="Only this source (repeatable).")
@click.option("--exclude-source", "exclude", multiple=True, help="Leave this source out.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the build summary (CorpusReport JSON) here.",
)
@click.pass_obj
def build(
    obj: Context,
    out: Path,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    report: Path | None,
    **options: Any,
) -> None:
    """Build a corpus: balanced sample over all sources found on this machine."""
    from mira.corpus.build import CorpusBuild
    from mira.corpus.catalog import by_slug
    from mira.corpus.dpkg import PackageIndex
    from mira.corpus.report import log_report, too_few_sources
    from mira.corpus.writer import WriterError, write_documents

    cs = obj.settings(overrides(options)).corpus
    try:
        dropped = {s.slug for s in by_slug(list(exclude))} if exclude else set()
        specs = [s for s in by_slug(list(only)) if s.slug not in dropped]
    except KeyError as exc:
        fail(str(exc.args[0]))
    job = CorpusBuild(specs, cs, PackageIndex())
    try:
        written = write_documents(job.documents(), out)
    except (WriterError, OSError) as exc:
        fail(str(exc), code=1)
    summary = job.report()
    log_report(summary)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    click.echo(f"wrote {written} documents from {summary.sources_ok} sources to {out}", err=True)
    problem = too_few_sources(summary, cs.require_sources)
    if problem:
        fail(problem, code=1)


@corpus.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead.")
@click.option("--strict", is_flag=True, help="Exit 1 if any line is malformed.")
@click.pass_obj
def stats(obj: Context, file: Path, as_json: bool, strict: bool) -> None:
    """Per-source and per-group table of a corpus file (.jsonl or .parquet)."""
    from mira.corpus.stats import compute_stats, render_table

    result = compute_stats(file, obj.settings().document)
    for bad in result.malformed:
        click.echo(f"{file}:{bad.line}: malformed: {bad.error}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        render_table(result)
    if strict and result.malformed:
        fail(f"{len(result.malformed)} malformed line(s) in {file}", code=1)


@corpus.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead.")
def sources(as_json: bool) -> None:
    """List the built-in sources, their suggested group and whether they exist here."""
    from mira.corpus.catalog import DEFAULT_SOURCES
    from mira.corpus.sources import resolve_roots

    rows = [
        {
            "source": s.slug,
            "group": s.kind,
            "package": s.package,
            "license": s.license,
            "roots": resolve_roots(s),
            "description": s.description,
        }
        for s in DEFAULT_SOURCES
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "ok" if row["roots"] else f"MISSING (apt: {row['package']})"
        click.echo(f"{row['source']:<18} {row['group']:<9} {state:<28} {row['description']}")
