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

from mira.cli import Context, fail

log = logging.getLogger(__name__)


def _pins(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        src, sep, group = v.partition("=")
        if not sep or not src or not group:
            fail(f"--pin expects SOURCE=GROUP, got {v!r}")
        out[src] = group
    return out


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     required=True, help="JSONL or Parquet of Document v1."),
        click.option("--run", "run_dir", type=click.Path(file_okay=False, path_type=Path),
                     required=True, help="Run directory (created; later stages read it)."),
        click.option("--backend", type=click.Choice(["local", "openai", "vllm"]), default=None,
                     help="Teacher backend [settings teacher.backend, default local]."),
        click.option("--model", default=None, help="Local folder, served model name or hub id."),
        click.option("--url", default=None, help="OpenAI-compatible server URL (openai)."),
        click.option("--concurrency", type=int, default=None, help="Parallel HTTP requests."),
        click.option("--batch-size", type=int, default=None, help="Documents per teacher batch."),
        click.option("--max-new-tokens", type=int, default=None),
        click.option("--max-retries", type=int, default=None, help="Retries of invalid answers."),
        click.option("--device", default=None, help="Local backend device: cpu, cuda, cuda:1."),
        click.option("--k", "k", type=int, default=None, help="Groups (default: silhouette)."),
        click.option("--k-min", type=int, default=3, show_default=True,
                     help="Smallest k the silhouette may choose (k=2 only splits code from text)."),
        click.option("--k-max", type=int, default=8, show_default=True),
        click.option("--feature-docs", type=int, default=64, show_default=True,
                     help="Documents per source whose format features are averaged."),
        click.option("--embed-weight", type=float, default=0.3, show_default=True,
                     help="Weight of the topic embedding beside the format features."),
        click.option("--pin", multiple=True, help="Pin a source to a group: SOURCE=GROUP."),
        click.option("--samples-per-source", type=int, default=16, show_default=True),
        click.option("--anchors", type=int, default=15, show_default=True),
        click.option("--samples-per-group", type=int, default=16, show_default=True,
                     help="Documents whose proposals make the rubric."),
        click.option("--dims-per-doc", type=int, default=2, show_default=True),
        click.option("--docs-per-group", type=int, default=64, show_default=True,
                     help="Documents to annotate per group."),
        click.option("--max-chars", type=int, default=1500, show_default=True,
                     help="Characters of each document shown to the teacher."),
        click.option("--rationale-tokens", type=int, default=12, show_default=True,
                     help="Token budget of each rationale (local backend guide)."),
        click.option("--proposal-tokens", type=int, default=16, show_default=True,
                     help="Token budget of each proposal text field (local backend guide)."),
        click.option("--group", "only", multiple=True, help="Only these groups."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for opt in reversed(opts):
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
    def cmd(obj: Context, **kw: Any) -> None:
        _run(obj, stages, kw)

    return cmd


def _run(obj: Context, stages: tuple[str, ...], kw: dict[str, Any]) -> None:
    from discovery.corpus_io import CorpusError, by_source
    from discovery.rundir import RunDir

    for key in ("k", "k_min", "feature_docs", "anchors", "samples_per_source",
                "samples_per_group", "docs_per_group", "max_chars", "dims_per_doc",
                "rationale_tokens", "proposal_tokens"):
        if kw[key] is not None and kw[key] < 1:
            fail(f"--{key.replace('_', '-')} must be >= 1, got {kw[key]}")
    if kw["k_min"] > kw["k_max"]:
        fail(f"--k-min ({kw['k_min']}) must not exceed --k-max ({kw['k_max']})")
    teacher_over = {k: kw[k] for k in ("backend", "model", "url", "concurrency", "batch_size",
                                       "max_new_tokens", "max_retries", "device")}
    settings = obj.settings({"teacher": teacher_over})
    ts = settings.teacher
    needs_teacher = "rubrics" in stages or "annotate" in stages
    if needs_teacher and ts.backend == "openai" and not (ts.url and ts.model):
        fail("the openai backend needs --url and --model (or MIRA_TEACHER_URL / _MODEL)")
    if needs_teacher and ts.backend == "vllm" and not ts.model:
        fail("the vllm backend needs --model (hub id or local folder)")
    run = RunDir(kw["run_dir"])
    run.root.mkdir(parents=True, exist_ok=True)
    try:
        corpus = by_source(kw["corpus"])
    except CorpusError as exc:
        fail(str(exc))
    from discovery.driver import drive

    try:
        summary = drive(stages, corpus, run, settings.teacher, kw, _pins(kw["pin"]))
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc), code=1)
    click.echo(json.dumps(summary, indent=2, sort_keys=True))
    if summary.get("rubric_failures"):
        fail(f"no rubric for groups {sorted(summary['rubric_failures'])}: see {run.report}", 1)


for _name, _stages in {"groups": ("groups",), "rubrics": ("rubrics",),
                       "annotate": ("annotate",),
                       "all": ("groups", "rubrics", "annotate")}.items():
    _stage(_name, _stages)

