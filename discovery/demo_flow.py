"""The distillation half of ``make demo``: distill -> export -> filter -> report, timed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from discovery.distill import DistillConfig, distill_group, metrics_table
from discovery.export import ExportOptions

log = logging.getLogger(__name__)


@dataclass
class FlowResult:
    repo: Path
    filtered: Path
    report: Path
    kept_share: float
    seconds: dict[str, float] = field(default_factory=dict)


def distill_all(run_dir: Path, cfg: DistillConfig) -> list[str]:
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


def distill_export_filter(run_dir: Path, corpus: Path, out_dir: Path, budget: float = 0.5,
                          cfg: DistillConfig | None = None) -> FlowResult:
    """Run the flow on a discovery run and a corpus; artifacts go under ``out_dir``."""
    from discovery.export_run import export_run
    from discovery.report import write_report
    from mira.settings import MiraSettings
    from scorer.filter_cli import build_pipeline, run_filter

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    distill_all(run_dir, cfg or DistillConfig())
    seconds["distill"] = time.perf_counter() - t
    t = time.perf_counter()
    repo = out_dir / "model_repository"
    _, retention = export_run(run_dir, corpus, repo, ExportOptions(budget=budget))
    log.info("thresholds on the calibration sample\n%s", retention.table())
    seconds["export"] = time.perf_counter() - t
    t = time.perf_counter()
    filtered = out_dir / "filtered"
    summary = run_filter(build_pipeline(repo, MiraSettings(), None), [corpus], filtered, 64)
    log.info("filter\n%s", summary.table(summary.count["in"]))
    seconds["filter"] = time.perf_counter() - t
    report = write_report(run_dir, filtered / "summary.json")
    return FlowResult(repo, filtered, report, retention.kept_share, seconds)
