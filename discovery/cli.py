"""``mira discover``: source grouping, rubric discovery and teacher annotation into a run dir.

    mira discover all --corpus corpus.jsonl --run runs/r1 --k 3 --anchors 15
    mira discover annotate --corpus corpus.jsonl --run runs/r1 --backend openai \\
        --url http://127.0.0.1:8000 --model Qwen/Qwen3-8B
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options

log = logging.getLogger(__name__)

_TEACHER = [
    "backend",
    "model",
    "url",
    "concurrency",
    "batch_size",
    "max_new_tokens",
    "max_retries",
    "device",
]


def _pins(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        src, sep, group = v.partition("=")
        if not sep or not src or not group:
            fail(f"--pin expects SOURCE=GROUP, got {v!r}")
        out[src] = group
    return out


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = settings_options("discovery")(fn)
    fn = settings_options("teacher", _TEACHER)(fn)
    for opt in reversed(
        [
            click.option(
                "--corpus",
                "corpus",
                type=click.Path(path_type=Path),
                multiple=True,
                required=True,
                help="JSONL or Parquet of Document v1, or a folder (repeatable).",
            ),
            click.option(
                "--run",
                "run_dir",
                type=click.Path(file_okay=False, path_type=Path),
                required=True,
                help="Run directory (created; later stages read it).",
            ),
            click.option("--pin", multiple=True, help="Pin a source to a group: SOURCE=GROUP."),
            click.option("--group", "only", multiple=True, help="Only these groups."),
        ]
    ):
        fn = opt(fn)
    return fn


@click.group()
def discover() -> None:
    """Discovery: group sources, discover rubrics, annotate with the teacher."""


_HELP = {
    "groups": "Step 1: embed sources, cluster them into groups (grouping.json).",
    "rubrics": "Step 2: teacher proposals -> anchors per group (rubrics/).",
    "annotate": "Step 3a: teacher scores per anchor (annotations/, cache.sqlite).",
    "all": "All stages in order.",
}


def _stage(name: str, stages: tuple[str, ...]) -> click.Command:
    @discover.command(name=name, help=_HELP[name])
    @_options
    @click.pass_obj
    def cmd(
        obj: Context,
        corpus: tuple[Path, ...],
        run_dir: Path,
        pin: tuple[str, ...],
        only: tuple[str, ...],
        **options: Any,
    ) -> None:
        _run(obj, stages, list(corpus), run_dir, _pins(pin), only, options)

    return cmd


def _run(
    obj: Context,
    stages: tuple[str, ...],
    corpus: list[Path],
    run_dir: Path,
    pins: dict[str, str],
    only: tuple[str, ...],
    options: dict[str, Any],
) -> None:
    from discovery.corpus import load_corpus
    from discovery.run import drive
    from discovery.rundir import RunDir

    settings = obj.settings(overrides(options))
    ts = settings.teacher
    needs_teacher = "rubrics" in stages or "annotate" in stages
    if needs_teacher and ts.backend == "openai" and not (ts.url and ts.model):
        fail("the openai backend needs --url and --model (or MIRA_TEACHER_URL / _MODEL)")
    if needs_teacher and ts.backend == "vllm" and not ts.model:
        fail("the vllm backend needs --model (hub id or local folder)")
    missing = [str(p) for p in corpus if not p.exists()]
    if missing:
        fail(f"no such corpus: {', '.join(missing)}")
    run = RunDir(run_dir)
    run.root.mkdir(parents=True, exist_ok=True)
    docs = load_corpus(corpus, settings.document)
    run.update_report(
        "corpus",
        {
            "sources": len(docs.by_source),
            "refused": dict(docs.refused),
            "docs": sum(len(v) for v in docs.by_source.values()),
        },
    )
    try:
        summary = drive(stages, docs.by_source, run, ts, settings.discovery, pins, only)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc), code=1)
    click.echo(json.dumps(summary, indent=2, sort_keys=True))
    if summary.get("rubric_failures"):
        fail(f"no rubric for groups {sorted(summary['rubric_failures'])}: see {run.report}", 1)


for _name, _stages in {
    "groups": ("groups",),
    "rubrics": ("rubrics",),
    "annotate": ("annotate",),
    "all": ("groups", "rubrics", "annotate"),
}.items():
    _stage(_name, _stages)
