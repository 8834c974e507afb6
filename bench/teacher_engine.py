"""Local teacher throughput: annotated documents/s and proposal documents/s, two code trees.

    .venv/bin/python bench/teacher_engine.py --corpus /tmp/c600.jsonl \\
        --baseline-tree /tmp/before [--docs 16] [--write]

Runs the same requests (the demo's sizes: 3 anchors, 8-token rationales, 2 proposals per
document, 600 characters shown, batch 8) through ``discovery.teacher.local_hf.LocalHFTeacher`` of
this tree and of ``--baseline-tree`` (a ``git worktree`` of the commit before the change), each in
its own process, alternating, best of ``--rounds``; ``--write`` appends the result to
docs/benchmarks.md.  Valid answers are counted too: speed without valid answers is worthless.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ("clarity", "correctness", "usefulness")


def one(corpus: Path, docs: int, batch: int, max_chars: int) -> dict[str, Any]:
    """Measure the tree on PYTHONPATH (runs in a child process)."""
    try:  # this tree's layout, else the layout before discovery was split by stage
        from discovery.teacher.prompts import anchor_check, cut, proposal_prompt, score_prompt
    except ImportError:
        import discovery.prompts as old  # type: ignore[import-not-found]

        anchor_check, cut = old.anchor_check, old.cut
        proposal_prompt, score_prompt = old.proposal_prompt, old.score_prompt
    from discovery.teacher.base import Failed
    from discovery.teacher.local_hf import LocalHFTeacher
    from mira.contracts import Anchor, Document, ProposalAnswer, ScoreAnswer

    started = time.perf_counter()
    teacher = LocalHFTeacher(batch_size=batch, max_retries=0, seed=0)
    load_s = time.perf_counter() - started
    anchors = [Anchor(name=n, description=f"how good the {n} of the document is") for n in ANCHORS]
    lines = corpus.read_text("utf-8").splitlines()
    picked = [Document.model_validate_json(x) for x in lines[:: max(1, 600 // docs)][:docs]]
    texts = [(d.source, cut(d.text, max_chars)) for d in picked]
    score = [score_prompt(s, t, anchors, rationale_tokens=8) for s, t in texts]
    propose = [proposal_prompt(s, t, 2, text_tokens=12) for s, t in texts[: docs // 2]]
    check = anchor_check(list(ANCHORS))
    teacher.ask_many(score[:batch], ScoreAnswer, check)  # warm-up
    out: dict[str, Any] = {"load_s": round(load_s, 1)}
    for name, prompts, schema, kw in (
        ("annotate", score, ScoreAnswer, {"check": check}),
        ("propose", propose, ProposalAnswer, {"temperature": 0.7}),
    ):
        tokens0 = teacher.generated_tokens
        t0 = time.perf_counter()
        res = teacher.ask_many(prompts, schema, **kw)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        ok = sum(not isinstance(r, Failed) for r in res)
        out[name] = {
            "docs": len(prompts),
            "valid": ok,
            "seconds": round(dt, 1),
            "docs_per_s": round(len(prompts) / dt, 3),
            "tokens_per_doc": round((teacher.generated_tokens - tokens0) / len(prompts)),
            "example": str(res[0])[:300],
        }
    return out


def child(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [
        sys.executable,
        __file__,
        "--one",
        "--corpus",
        str(args.corpus),
        "--docs",
        str(args.docs),
        "--batch",
        str(args.batch),
        "--max-chars",
        str(args.max_chars),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=tree)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def commit(tree: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True
    ).stdout.strip()


def best(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return max((r[key] for r in runs), key=lambda r: r["docs_per_s"])


def section(base: list[dict[str, Any]], new: list[dict[str, Any]], args: argparse.Namespace) -> str:
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for key, what in (
        ("annotate", "annotated docs/s (3 anchors)"),
        ("propose", "proposal docs/s (2 dimensions)"),
    ):
        b, n = best(base, key), best(new, key)
        rows.append(
            f"| {what} | {b['docs_per_s']:.3f} ({b['valid']}/{b['docs']} valid) | "
            f"{n['docs_per_s']:.3f} ({n['valid']}/{n['docs']} valid) | "
            f"{n['docs_per_s'] / b['docs_per_s']:.1f}x |"
        )
    table = "\n".join(rows)
    return f"""
## Local teacher engine: hand-written guide vs xgrammar (bench/teacher_engine.py, {date})

Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared; load average at the end
{", ".join(f"{x:.1f}" for x in os.getloadavg())}), SmolLM2-135M-Instruct on CPU, batch
{args.batch}, {args.docs} documents of `{args.corpus.name}` cut to {args.max_chars} characters,
8-token rationales; best of {args.rounds} alternating rounds. Baseline: commit
{commit(args.baseline_tree)} (template-guided decoding, fp32); new: commit {commit(ROOT)}.

| | baseline | xgrammar engine | ratio |
|---|---:|---:|---:|
{table}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--baseline-tree", type=Path)
    ap.add_argument("--docs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-chars", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one", action="store_true", help="(internal) measure this process's tree")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.corpus, args.docs, args.batch, args.max_chars)))
        return
    base: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        if args.baseline_tree:
            base.append(child(args.baseline_tree, args))
            print("baseline", json.dumps(base[-1]), flush=True)
        new.append(child(ROOT, args))
        print("new", json.dumps(new[-1]), flush=True)
    if args.baseline_tree:
        text = section(base, new, args)
        print(text)
        if args.write:
            with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
                fh.write(text)


if __name__ == "__main__":
    main()
