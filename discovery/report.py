"""A small HTML report of a run: score distribution per source, agreement per anchor, kept share.

Reads ``<run>/students/*/student.json`` and ``<run>/export/{export.json,calibration.jsonl}``
(optionally a ``mira filter`` summary.json) and writes PNGs (matplotlib, Agg) + ``index.html``
into ``<run>/report/``.
"""

from __future__ import annotations

import html
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from mira.contracts import StudentCard

log = logging.getLogger(__name__)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(rows: list[dict[str, Any]], thresholds: dict[str, float], path: Path) -> None:
    plt = _plt()
    by_src: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_src[r["source"]].append(float(r["score"]))
    names = sorted(by_src)
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names)), 4.5))
    ax.boxplot([by_src[n] for n in names], showfliers=False)
    ax.scatter(
        range(1, len(names) + 1),
        [thresholds.get(n, float("nan")) for n in names],
        marker="_",
        s=300,
        color="red",
        label="threshold",
    )
    ax.set_xticks(range(1, len(names) + 1), names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("aggregate score")
    ax.set_title("Student score per source (calibration sample)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_agreement(cards: list[StudentCard], path: Path) -> None:
    plt = _plt()
    labels = [f"{c.group}:{a}"[:40] for c in cards for a in c.anchors]
    ms = [c.metrics[a] for c in cards for a in c.anchors]
    rho = [m.spearman for m in ms]
    weights = [m.weight for m in ms]
    err = [[m.spearman - m.spearman_low for m in ms], [m.spearman_high - m.spearman for m in ms]]
    labels = [f"{lab} (n={m.n})" for lab, m in zip(labels, ms, strict=True)]
    fig, ax = plt.subplots(figsize=(7, max(3, 0.25 * len(labels))))
    y = range(len(labels))
    ax.barh(
        list(y),
        rho,
        xerr=err,
        capsize=2,
        color=["tab:blue" if m.spearman_low > 0 else "tab:gray" for m in ms],
        label="held-out Spearman, 95% interval",
    )
    ax.scatter(weights, list(y), color="orange", zorder=3, label="aggregation weight")
    ax.set_yticks(list(y), labels, fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_title("Student-teacher agreement per anchor")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_kept(per_source: dict[str, dict[str, float]], budget: float, path: Path) -> None:
    plt = _plt()
    names = sorted(per_source)
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names)), 4))
    ax.bar(names, [per_source[n]["kept_share"] for n in names])
    ax.axhline(budget, color="red", ls="--", label=f"budget {budget:.2f}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("kept token share")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.set_title("Kept tokens per source (calibration sample)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _card_table(cards: list[StudentCard]) -> str:
    rows = [
        "<tr><th>group</th><th>anchor</th><th>held-out n</th><th>Spearman</th>"
        "<th>95% interval</th><th>MAE</th><th>mean-predictor MAE</th><th>weight</th></tr>"
    ]
    for c in cards:
        for a, m in c.metrics.items():
            rows.append(
                f"<tr><td>{html.escape(c.group)}</td><td>{html.escape(a)}</td>"
                f"<td>{m.n}</td><td>{m.spearman:.3f}</td>"
                f"<td>{m.spearman_low:.2f} .. {m.spearman_high:.2f}</td>"
                f"<td>{m.mae:.3f}</td><td>{m.baseline_mae:.3f}</td>"
                f"<td>{m.weight:.3f}</td></tr>"
            )
    return "<table>" + "".join(rows) + "</table>"


def write_report(run_dir: Path, filter_summary: Path | None = None) -> Path:
    """Write ``<run>/report/index.html`` (+ PNGs); returns the HTML path."""
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    cards = [
        StudentCard.model_validate_json(p.read_text("utf-8"))
        for p in sorted((run_dir / "students").glob("*/student.json"))
    ]
    export = json.loads((run_dir / "export" / "export.json").read_text("utf-8"))
    rows = [
        json.loads(x)
        for x in (run_dir / "export" / "calibration.jsonl").read_text("utf-8").splitlines()
    ]
    plot_scores(rows, export["thresholds"], out / "scores_by_source.png")
    plot_agreement(cards, out / "agreement.png")
    plot_kept(export["per_source"], export["budget"], out / "kept_share.png")
    extra = ""
    if filter_summary is not None and filter_summary.is_file():
        extra = (
            "<h2>mira filter summary</h2><pre>"
            + html.escape(filter_summary.read_text("utf-8"))
            + "</pre>"
        )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>mira run report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} td,th{{padding:2px 8px}}
table{{border-collapse:collapse}} tr:nth-child(even){{background:#f3f3f3}}</style></head><body>
<h1>mira run {html.escape(run_dir.name)}</h1>
<p>Repository: {html.escape(str(export["repo"]))}. Budget {export["budget"]:.2f}; kept-token share
on the calibration sample {export["kept_share"]:.3f}.</p>
<h2>Score per source</h2><img src="scores_by_source.png">
<h2>Agreement per anchor (held-out)</h2>
<p>Weights: {html.escape(cards[0].weights_rule if cards else "")}.</p>
<img src="agreement.png">{_card_table(cards)}
<h2>Kept share per source</h2><img src="kept_share.png">{extra}
<h2>Models</h2><pre>{html.escape(json.dumps(export["models"], indent=2))}</pre>
</body></html>
"""
    (out / "index.html").write_text(page, "utf-8")
    log.info("report written to %s", out / "index.html")
    return out / "index.html"
