"""Benchmark: `mira corpus build` docs/s and MB/s against a bare "read the same files into JSONL".

The builder lists every source, samples, decodes, converts (troff, HTML, notebooks), splits FAQs,
filters, de-duplicates and writes Document v1 JSONL.  The baseline reads exactly the files the
builder used (each distinct ``meta.origin`` once), decodes them as UTF-8 and writes
``{"id","source","text"}`` lines: the floor any builder pays.  Both run warm (an untimed build
first fills the page cache).

    .venv/bin/python bench/corpus_build.py --docs 5000 --append docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from mira.corpus import sources
from mira.corpus.build import CorpusBuild
from mira.corpus.catalog import DEFAULT_SOURCES
from mira.corpus.dpkg import PackageIndex
from mira.corpus.writer import write_documents
from mira.settings import CorpusSettings


def build(out: Path, docs: int) -> float:
    sources._walk.cache_clear()  # the builder lists files from disk each run
    start = time.perf_counter()
    job = CorpusBuild(DEFAULT_SOURCES, CorpusSettings(max_docs=docs, seed=0), PackageIndex())
    write_documents(job.documents(), out)
    return time.perf_counter() - start


def listing(docs: int) -> float:
    sources._walk.cache_clear()
    start = time.perf_counter()
    CorpusBuild(DEFAULT_SOURCES, CorpusSettings(max_docs=docs, seed=0), PackageIndex())
    return time.perf_counter() - start


def baseline(corpus: Path, out: Path) -> float:
    origins: dict[str, tuple[str, str]] = {}  # one read per file (FAQs give many docs per file)
    for d in map(json.loads, corpus.read_text(encoding="utf-8").splitlines()):
        origins.setdefault(d["meta"]["origin"], (d["id"], d["source"]))
    start = time.perf_counter()
    zips: dict[str, zipfile.ZipFile] = {}
    with out.open("w", encoding="utf-8") as fh:
        for origin, (doc_id, source) in origins.items():
            path, _, member = origin.partition("!")
            if member:
                if path not in zips:
                    zips[path] = zipfile.ZipFile(path)
                raw = zips[path].read(member)
            else:
                raw = Path(path).read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            text = raw.decode("utf-8", "replace")
            fh.write(json.dumps({"id": doc_id, "source": source, "text": text}) + "\n")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--append", type=Path, help="append a markdown section to this file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, base_out = Path(tmp) / "c.jsonl", Path(tmp) / "b.jsonl"
        build(corpus, args.docs)  # warm-up: page cache
        t_build = min(build(corpus, args.docs) for _ in range(args.repeat))
        t_base = min(baseline(corpus, base_out) for _ in range(args.repeat))
        t_list = min(listing(args.docs) for _ in range(args.repeat))
        mb = corpus.stat().st_size / 1e6
    rows = [
        ("bare read of the same files -> JSONL (baseline)", t_base),
        ("`mira corpus build` (list 24 sources, convert, filter, dedup, write)", t_build),
        ("of which: listing the sources' files + dpkg index (no documents)", t_list),
    ]
    lines = [
        f"\n## mira corpus build vs bare file read (bench/corpus_build.py, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n",
        f"Machine: {platform.node() or 'vm'}, {os.cpu_count()} CPU cores, "
        f"{platform.python_implementation()} {platform.python_version()}; warm page cache; "
        f"{args.docs} documents ({mb:.1f} MB of JSONL), seed 0, best of {args.repeat}.\n",
        "| run | seconds | docs/s | MB/s |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {t:.2f} | {args.docs / t:,.0f} | {mb / t:.1f} |" for name, t in rows[:2]],
        f"| {rows[2][0]} | {rows[2][1]:.2f} | - | - |",
        f"\nRatio build / baseline time: **{t_build / t_base:.2f}x**; without the listing "
        f"(build - listing) **{(t_build - t_list) / t_base:.2f}x**.\n",
    ]
    text = "\n".join(lines)
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
