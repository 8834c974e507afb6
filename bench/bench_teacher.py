"""Local teacher throughput (guided anchor scoring) on this machine: torch threads 1 vs default.

    .venv/bin/python bench/bench_teacher.py --corpus corpus.jsonl --docs 16

Prints one JSON line per setting (docs/s, generated tokens/s) and the ratio against the
baseline (torch's default thread count), measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def one(corpus: str, docs: int, threads: int, batch: int, max_chars: int) -> dict[str, float]:
    import torch

    from discovery.corpus import read_documents
    from discovery.teacher.local_hf import LocalHFTeacher
    from discovery.teacher.prompts import anchor_check, cut, score_prompt
    from mira.contracts import Anchor, ScoreAnswer

    teacher = LocalHFTeacher(batch_size=batch, max_retries=0, threads=threads or None)
    if not threads:
        torch.set_num_threads(os.cpu_count() or 1)
    anchors = [
        Anchor(name=n, description=f"how good the {n} is")
        for n in ("clarity", "correctness", "usefulness")
    ]
    picked = list(read_documents(Path(corpus)))[::7][:docs]
    prompts = [
        score_prompt(d.source, cut(d.text, max_chars), anchors, rationale_tokens=8) for d in picked
    ]
    teacher.ask_many(prompts[:batch], ScoreAnswer, anchor_check([a.name for a in anchors]))
    teacher.generated_tokens = 0
    start = time.perf_counter()
    teacher.ask_many(prompts, ScoreAnswer, anchor_check([a.name for a in anchors]))
    dt = time.perf_counter() - start
    return {
        "threads": torch.get_num_threads(),
        "docs": len(prompts),
        "seconds": round(dt, 1),
        "docs_per_s": round(len(prompts) / dt, 3),
        "tokens_per_s": round(teacher.generated_tokens / dt, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--docs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-chars", type=int, default=400)
    ap.add_argument("--threads", type=int, default=None, help="(internal) one setting only")
    args = ap.parse_args()
    if args.threads is not None:
        print(json.dumps(one(args.corpus, args.docs, args.threads, args.batch, args.max_chars)))
        return
    rows = []
    for threads in (0, 1):  # 0 = baseline: torch default (all cores)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--corpus",
                args.corpus,
                "--docs",
                str(args.docs),
                "--batch",
                str(args.batch),
                "--max-chars",
                str(args.max_chars),
                "--threads",
                str(threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["docs_per_s"]
    for r in rows:
        r["ratio_vs_default_threads"] = round(r["docs_per_s"] / base, 2)
        print(json.dumps(r))
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                "load": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
