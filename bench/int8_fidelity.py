"""Does an int8 student select like the fp32 one, judged against the teacher?

    .venv/bin/python bench/int8_fidelity.py [--corpus FILE] [--docs 1500] [--no-write]

The test-only learnable teacher (tests/fixtures/learnable_teacher.py: anchor scores that are
known functions of the tokens the student sees, plus one anchor of noise) labels real corpus
documents; discovery's own code distils one student (default distill settings), which is exported
twice: fp32 (the default) and ``export.quantize=int8``; both run through ``mira filter``'s
engine.  On the documents held out from distillation (the distiller's own split): Spearman of
each learnable anchor against the teacher, of the final score against the teacher's score
(the same anchor weights over the teacher's labels), and the share of documents whose keep/drop
decision matches the teacher's when each keeps half; int8 against fp32 as well.  Appends to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from bench.provenance import commit, machine  # noqa: E402
from bench.stream_setup import corpus  # noqa: E402

KEEP = 0.5


def scored(out: Path) -> dict[str, tuple[dict[str, float], float]]:
    """doc id -> (anchor scores, final score) from a filter output directory."""
    found = {}
    for name in ("accepted.jsonl", "rejected.jsonl"):
        for line in (out / name).read_text("utf-8").splitlines():
            rec = json.loads(line)
            found[rec["id"]] = (rec["mira"]["anchors"], rec["mira"]["score"])
    return found


def agree(a: np.ndarray, b: np.ndarray) -> float:
    """Share of documents on the same side when each ranking keeps the top ``KEEP``."""
    n = round(KEEP * len(a))
    top_a, top_b = np.zeros(len(a), bool), np.zeros(len(b), bool)
    top_a[np.argsort(-a)[:n]] = True
    top_b[np.argsort(-b)[:n]] = True
    return float((top_a == top_b).mean())


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from discovery.distill.data import spearman, split_by_doc
    from discovery.distill.stage import distill_group
    from discovery.distill.student import backbone_dir
    from mira.contracts import Document
    from mira.settings import MiraSettings
    from tests.fixtures.flows import export, filter_repo
    from tests.fixtures.learnable_teacher import LEARNABLE, LearnableTeacher, label_run

    work = Path(tempfile.mkdtemp(prefix="mira-bench-int8-"))
    lines = corpus(args.corpus, work, 6000).read_text("utf-8").splitlines()[: args.docs]
    docs_file = work / "docs.jsonl"
    docs_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = [Document.model_validate_json(x) for x in lines]
    cfg = MiraSettings().distill
    teacher = LearnableTeacher(backbone_dir() / "tokenizer.json", cfg.max_length, cfg.max_chars)
    rows = label_run(work / "run", docs, teacher)
    card = distill_group(work / "run", "all", cfg)
    _, held = split_by_doc([r.doc_id for r in rows], cfg.heldout, cfg.seed)
    held_ids = [rows[i].doc_id for i in held]
    labels = {r.doc_id: r.scores for r in rows}
    weights = dict(zip(card.anchors, card.weights, strict=True))
    truth = np.array([sum(w * labels[d][a] for a, w in weights.items()) for d in held_ids])
    out: dict[str, Any] = {"docs": len(docs), "heldout": len(held_ids), "weights": weights}
    finals = {}
    for variant, quantize in (("fp32", "none"), ("int8", "int8")):
        repo = work / f"repo-{variant}"
        export(work / "run", docs_file, repo, budget=KEEP, quantize=quantize)
        filter_repo(repo, [docs_file], work / f"out-{variant}")
        got = scored(work / f"out-{variant}")
        finals[variant] = np.array([got[d][1] for d in held_ids])
        out[variant] = {
            "anchors": {
                a: spearman(
                    np.array([got[d][0][a] for d in held_ids]),
                    np.array([labels[d][a] for d in held_ids], dtype=float),
                )
                for a in LEARNABLE
            },
            "score_spearman": spearman(finals[variant], truth),
            "agreement": agree(finals[variant], truth),
        }
    out["int8_vs_fp32"] = {
        "spearman": spearman(finals["int8"], finals["fp32"]),
        "agreement": agree(finals["int8"], finals["fp32"]),
    }
    return out


def report(data: dict[str, Any]) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "",
        f"## Int8 against fp32, judged by the teacher (bench/int8_fidelity.py, {stamp})",
        "",
        f"Machine: {machine()}; commit {commit()}. {data['docs']} real corpus documents labelled "
        "by the test-only learnable teacher; one MiniLM-L6 student distilled with the default "
        "settings, exported fp32 and `export.quantize=int8`, both run by `mira filter`'s engine; "
        f"measured on the {data['heldout']} documents held out from distillation. Agreement: "
        f"share of documents on the same side when each keeps {KEEP:.0%}.",
        "",
        "| | " + " | ".join(f"Spearman `{a}`" for a in data["fp32"]["anchors"]) + " | Spearman "
        "score vs teacher score | same decision as the teacher |",
        "|---|" + "---:|" * (len(data["fp32"]["anchors"]) + 2),
    ]
    for variant in ("fp32", "int8"):
        v = data[variant]
        cells = " | ".join(f"{s:.3f}" for s in v["anchors"].values())
        lines.append(f"| {variant} | {cells} | {v['score_spearman']:.3f} | {v['agreement']:.1%} |")
    cmp = data["int8_vs_fp32"]
    lines += [
        "",
        f"Int8 against fp32 on the same documents: Spearman {cmp['spearman']:.4f}, same decision "
        f"for {cmp['agreement']:.1%}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="JSONL documents (default: build 6,000)")
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    text = report(measure(args))
    print(text)
    if not args.no_write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
