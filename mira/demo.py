"""``mira demo``: the main job end to end on the embedded default, as a list of named steps.

Each step takes the shared :class:`DemoRun` (work dir, seed, paths produced so far) and returns a
one-line summary; the command runs them in order and prints a timing table.  Later steps
(discover, annotate, distill, export, filter) append to ``STEPS`` and read ``run.artifacts``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from mira.command import Context, fail
from mira.settings import MiraSettings

log = logging.getLogger(__name__)


@dataclass
class DemoRun:
    workdir: Path
    seed: int
    max_docs: int
    artifacts: dict[str, Path] = field(default_factory=dict)
    settings: MiraSettings | None = None


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[DemoRun], str]


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    summary: str


def step_corpus(run: DemoRun) -> str:
    """Build a small balanced corpus from this machine's files into ``<workdir>/corpus.jsonl``."""
    from mira.corpus.build import CorpusBuild
    from mira.corpus.catalog import DEFAULT_SOURCES
    from mira.corpus.dpkg import PackageIndex
    from mira.corpus.report import log_report
    from mira.corpus.writer import write_documents

    out = run.workdir / "corpus.jsonl"
    cs = _settings(run).corpus.model_copy(update={"max_docs": run.max_docs, "seed": run.seed})
    job = CorpusBuild(DEFAULT_SOURCES, cs, PackageIndex())
    written = write_documents(job.documents(), out)
    report = job.report()
    log_report(report)
    report_path = run.workdir / "corpus.report.json"
    report_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    run.artifacts.update(corpus=out, corpus_report=report_path)
    return f"{written} docs from {report.sources_ok}/{len(report.sources)} sources -> {out}"


def step_stats(run: DemoRun) -> str:
    """Print the per-source and per-group table of the corpus."""
    from mira.corpus.stats import compute_stats, render_table

    stats = compute_stats(run.artifacts["corpus"], _settings(run).document)
    render_table(stats)
    total = stats.total
    tokens = total.approx_tokens if total else 0
    return f"{len(stats.sources)} sources, {len(stats.groups)} groups, ~{tokens:,} tokens"


# Sizes that keep the SmolLM2-135M teacher on 2 CPU cores within the demo's five minutes: one
# batch of proposals for all groups (2 documents x 2 dimensions each; up to two more rounds for
# groups without a valid one), 3 anchors, 12 annotated documents per group with 4-token
# rationales, 300 characters shown; the students read 64 tokens, about what the teacher saw
# (docs/distillation.md).
DISCOVER_SIZES: dict[str, Any] = {
    "k_min": 3,
    "k_max": 5,
    "samples_per_source": 4,
    "feature_docs": 32,
    "anchors": 3,
    "samples_per_group": 2,
    "dims_per_doc": 2,
    "proposal_tokens": 6,
    "proposal_rounds": 3,
    "docs_per_group": 12,
    "max_chars": 300,
    "rationale_tokens": 4,
}
TEACHER_BATCH = 16
STUDENT_TOKENS = 64


def _settings(run: DemoRun) -> MiraSettings:
    from mira.settings import MiraSettings

    return run.settings or MiraSettings()


def step_discover(run: DemoRun) -> str:
    """Group sources, discover rubrics and annotate with the SmolLM2 teacher (``mira discover``)."""
    from discovery.corpus import load_corpus
    from discovery.run import drive
    from discovery.rundir import RunDir

    settings = _settings(run)
    ds = settings.discovery.model_copy(update={**DISCOVER_SIZES, "seed": run.seed})
    run_dir = RunDir(run.workdir / "run")
    run_dir.root.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus([run.artifacts["corpus"]], settings.document)
    ts = settings.teacher.model_copy(update={"batch_size": TEACHER_BATCH})
    summary = drive(("groups", "rubrics", "annotate"), corpus.by_source, run_dir, ts, ds, {})
    run.artifacts["run"] = run_dir.root
    groups = summary.get("groups", {})
    anchors = {g: len(r["anchors"]) for g, r in summary.get("rubrics", {}).items()}
    notes = summary.get("annotations", {})
    return (
        f"{len(groups)} groups ({', '.join(groups)}); anchors {anchors}; annotated "
        f"{sum(notes.values())} docs -> {run_dir.root}"
    )


def step_distill(run: DemoRun) -> str:
    """Train one MiniLM student per group on the teacher's annotations (frozen encoder)."""
    from discovery.distill.stage import distill_all

    cfg = _settings(run).distill.model_copy(update={"seed": run.seed, "max_length": STUDENT_TOKENS})
    groups = distill_all(run.artifacts["run"], cfg)
    run.artifacts["students"] = run.artifacts["run"] / "students"
    return f"{len(groups)} students -> {run.artifacts['students']}"


def step_export(run: DemoRun) -> str:
    """Export ONNX students (parity-checked), calibrate thresholds for a 0.5 token budget."""
    from discovery.export.run import export_run

    settings = _settings(run)
    es = settings.export.model_copy(update={"budget": 0.5, "seed": run.seed})
    repo = run.workdir / "model_repository"
    manifest, cal = export_run(
        run.artifacts["run"],
        [run.artifacts["corpus"]],
        repo,
        es,
        settings.engine,
        settings.document,
    )
    log.info("thresholds on the calibration sample\n%s", cal.retention.table())
    run.artifacts["repo"] = repo
    versions = ", ".join(f"{g.model} v{g.version}" for g in manifest.groups.values())
    return f"{versions}; kept-token share {cal.retention.kept_share:.3f} (budget 0.5) -> {repo}"


def step_filter(run: DemoRun) -> str:
    """Score the corpus with the exported students in-process: accepted / rejected / dead."""
    from mira.engine.build import local_engine
    from mira.repository import MANIFEST_FILE, load_manifest
    from scorer.filter import FilterPlan, filter_files

    settings = _settings(run)
    repo = run.artifacts["repo"]
    manifest, _ = load_manifest(repo / MANIFEST_FILE)
    plan = FilterPlan.of(manifest, settings)
    out = run.workdir / "filtered"
    summary = filter_files(
        local_engine(repo, manifest, settings.engine), plan, [run.artifacts["corpus"]], out
    )
    log.info("mira filter\n%s", summary.table())
    run.artifacts["filtered"] = out
    d = summary.as_dict()
    return (
        f"in {d['in']} = accepted {d['accepted']} + rejected {d['rejected']} + "
        f"dead {d['dead_letter']}; kept tokens {d['kept_token_share']:.3f} -> {out}"
    )


def step_report(run: DemoRun) -> str:
    """Plots (score per source, agreement per anchor, kept share) and an HTML page."""
    from discovery.report import write_report

    page = write_report(run.artifacts["run"], run.artifacts["filtered"] / "summary.json")
    run.artifacts["report"] = page
    return f"report -> {page}"


STEPS: list[Step] = [
    Step("corpus", "build a multi-source corpus", step_corpus),
    Step("stats", "describe it per source and group", step_stats),
    Step("discover", "group sources, discover rubrics, annotate (SmolLM2 teacher)", step_discover),
    Step("distill", "distil the teacher into one student per group", step_distill),
    Step("export", "ONNX + thresholds + Triton model repository", step_export),
    Step("filter", "score the corpus in-process (mira filter)", step_filter),
    Step("report", "plots and HTML report", step_report),
]


def run_steps(steps: list[Step], run: DemoRun) -> list[StepResult]:
    """Run steps in order, timing each; an exception stops the run (logged with the step name)."""
    run.workdir.mkdir(parents=True, exist_ok=True)
    results: list[StepResult] = []
    for step in steps:
        log.info("demo step %s: %s", step.name, step.description)
        start = time.perf_counter()
        summary = step.run(run)
        results.append(StepResult(step.name, time.perf_counter() - start, summary))
    return results


def _print_timings(results: list[StepResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="mira demo")
    for col in ("step", "seconds", "result"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for r in results:
        table.add_row(r.name, f"{r.seconds:.1f}", r.summary)
    Console().print(table)


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where the demo writes everything.",
)
@click.option("--max-docs", type=int, default=400, show_default=True, help="Corpus size.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--until", type=click.Choice([s.name for s in STEPS]), help="Stop after this step.")
@click.pass_obj
def demo(obj: Context, workdir: Path, max_docs: int, seed: int, until: str | None) -> None:
    """Run the main job end to end on this machine (no servers): corpus, stats, ..."""
    settings = obj.settings({"corpus": {"max_docs": max_docs, "seed": seed}})
    cs = settings.corpus
    names = [s.name for s in STEPS]
    steps = STEPS[: names.index(until) + 1] if until else STEPS
    run = DemoRun(
        workdir=workdir, seed=cs.seed, max_docs=cs.max_docs or max_docs, settings=settings
    )
    try:
        results = run_steps(steps, run)
    except Exception as exc:  # one clear line, the traceback in the debug log
        log.debug("demo failed", exc_info=True)
        fail(f"demo step failed: {type(exc).__name__}: {exc}", code=1)
    _print_timings(results)
    click.echo(f"total {sum(r.seconds for r in results):.1f} s; artifacts:")
    for name, path in run.artifacts.items():
        click.echo(f"  {name:14} {path}")
