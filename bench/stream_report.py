"""Results of bench/stream.py: one row per run, medians over repeats, the benchmarks.md section."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.provenance import commit, machine
from bench.stage_profile import STAGES
from bench.stream_run import RunResult

GPU_DOCS_PER_S = 12_000  # one H200 scoring a MiniLM student at 512 tokens (SERVICES.md)


def row(
    client: str, length: int, res: RunResult, tok: tuple[float, float], cut: list[str]
) -> dict[str, Any]:
    """One run's numbers; ``tok``: the tokenizer alone on the pre-cut texts and on whole texts."""
    tok_ms, whole_ms = tok
    stages = {s: res.ms_per_doc(res.stages_s.get(s, 0.0)) for s in STAGES}
    total = res.ms_per_doc(res.tree_cpu_s)
    return {
        "client": client,
        "max_length": length,
        "docs": res.docs,
        "docs_per_s": res.docs / res.wall_s,
        "stages_ms": stages,
        "total_ms": total,
        "tokenizer_alone_ms": tok_ms,
        "tokenizer_whole_ms": whole_ms,
        "ratio": total / tok_ms,
        "idle_cpu_per_s": res.idle_cpu_per_s,
        "mean_chars_tokenized": sum(map(len, cut)) / len(cut),
    }


def median_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per client and length, the median of every number over the repeats (ratio range kept)."""
    from statistics import median

    out = []
    for key in dict.fromkeys((r["client"], r["max_length"]) for r in rows):
        same = [r for r in rows if (r["client"], r["max_length"]) == key]
        m: dict[str, Any] = {"client": key[0], "max_length": key[1], "repeats": len(same)}
        for field in (
            "docs",
            "docs_per_s",
            "total_ms",
            "tokenizer_alone_ms",
            "tokenizer_whole_ms",
            "ratio",
            "mean_chars_tokenized",
        ):
            m[field] = median(r[field] for r in same)
        m["stages_ms"] = {s: median(r["stages_ms"][s] for r in same) for s in STAGES}
        idle = [r["idle_cpu_per_s"] for r in same if r["idle_cpu_per_s"] is not None]
        m["idle_cpu_per_s"] = median(idle) if idle else None
        m["ratio_range"] = (min(r["ratio"] for r in same), max(r["ratio"] for r in same))
        out.append(m)
    return out


def report(args: argparse.Namespace, data: dict[str, Any]) -> str:
    head = (
        "| client | L | docs/s | "
        + " | ".join(STAGES)
        + " | **scorer total** | tokenizer alone | **ratio** (range) | idle CPU-s/s "
        + "| tokenizer on whole texts |"
    )
    lines = [*_intro(args, data), "", head, "|" + "---|" * (len(STAGES) + 8)]
    lines += [_table_row(r) for r in data["rows"]]
    lines += ["", _sizing(data["rows"]), ""]
    return "\n".join(lines)


def _intro(args: argparse.Namespace, data: dict[str, Any]) -> list[str]:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return [
        "",
        f"## Scorer CPU per document by stage (bench/stream.py, {stamp})",
        "",
        f"Machine: {machine()}; commit {commit()}; Kafka 4.1 (1 broker, {args.partitions} "
        "partitions per topic, input and outputs) and Triton 2.51 (near-free model with the "
        "students' I/O: the scorer's own cost) on the same host.",
        f"{data['docs']} real corpus documents ({data['mean_doc_bytes'] / 1024:.1f} KiB mean "
        f"JSON, {data['corpus']}); batch {args.batch}, max_in_flight {args.in_flight}, "
        f"tokenizer_workers {args.tokenizer_workers}, {args.delivery}, output compression "
        f"{args.compression or 'lz4 (default)'}; per-source pre-cut "
        "(chars/token measured on the documents, margin 1.3). CPU ms per document: total = the "
        "scorer process tree from /proc; stages = each thread's CPU split by its py-spy "
        "samples; tokenizer alone = the same pre-cut texts, one thread, same batches, median of "
        "5 passes (2 before the scorer's run, 3 after; the ratio's denominator); tokenizer on "
        "whole texts = the same tokenizer on the first 1,000 "
        "texts uncut (what `tokenizer(texts, truncation=True)` costs without the pre-cut). "
        "Medians of "
        f"{args.repeats} interleaved runs (ratio range in brackets).",
    ]


def _table_row(r: dict[str, Any]) -> str:
    idle = "" if r["idle_cpu_per_s"] is None else f"{r['idle_cpu_per_s']:.4f}"
    cells = " | ".join(f"{r['stages_ms'][s]:.3f}" for s in STAGES)
    return (
        f"| {r['client']} | {r['max_length']} | {r['docs_per_s']:,.0f} | {cells} | "
        f"**{r['total_ms']:.3f}** | {r['tokenizer_alone_ms']:.3f} | "
        f"**{r['ratio']:.2f}** ({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}) "
        f"| {idle} | {r['tokenizer_whole_ms']:.3f} |"
    )


def _sizing(rows: list[dict[str, Any]]) -> str:
    return (
        "Sizing (scorer cores per GPU at 12k documents/s, CPU alone, no headroom): "
        + "; ".join(
            f"{r['client']} L={r['max_length']}: {GPU_DOCS_PER_S * r['total_ms'] / 1e3:.1f} cores"
            for r in rows
        )
        + "."
    )
