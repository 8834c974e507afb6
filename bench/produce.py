"""Benchmark: `mira produce` docs/s and MB/s against a bare kafka-python send loop, same docs.

Documents are real files (the Python standard library, text cut to --max-chars), repeated with
distinct ids up to --docs.  Both runs use the same producer settings (lz4, linger 20 ms, 256 KiB
batches, acks=all, idempotent) against one real local broker (or MIRA_KAFKA_BOOTSTRAP); the
baseline sends the prepared lines as they are (no validation, no re-serialisation).

    .venv/bin/python bench/produce.py --docs 20000 --append docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import platform
import sysconfig
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from mira.cli import main
from mira.services.kafka import KafkaBroker, external_bootstrap
from producer.writer import create_topic, producer_kwargs


def make_docs(path: Path, n: int, max_chars: int) -> int:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    texts = [(f.name, f.read_text(encoding="utf-8", errors="replace")[:max_chars]) for f in files]
    size = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            name, text = texts[i % len(texts)]
            line = json.dumps(
                {
                    "id": f"{name}#{i}",
                    "source": "python_stdlib",
                    "text": text,
                    "meta": {"path": name},
                },
                separators=(",", ":"),
            )
            out.write(line + "\n")
            size += len(line.encode())
    return size


def run_mira(bootstrap: str, topic: str, path: Path) -> float:
    began = time.perf_counter()
    result = CliRunner().invoke(
        main,
        ["produce", str(path), "--bootstrap", bootstrap, "--topic", topic, "--json"],
        catch_exceptions=False,
    )
    elapsed = time.perf_counter() - began
    if result.exit_code != 0:
        raise SystemExit(f"mira produce failed: {result.output}")
    return elapsed


def run_bare(bootstrap: str, topic: str, path: Path) -> float:
    from kafka import KafkaProducer

    options = producer_kwargs(compression="lz4", linger_ms=20, batch_bytes=256 * 1024, acks="all")
    began = time.perf_counter()
    producer = KafkaProducer(bootstrap_servers=bootstrap, **options)
    with path.open("rb") as fh:
        for line in fh:
            value = line.rstrip(b"\n")
            key = json.loads(value)["id"].encode()
            producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    return time.perf_counter() - began


def bench(bootstrap: str, docs: int, max_chars: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        nbytes = make_docs(path, docs, max_chars)
        best: dict[str, float] = {}
        for _ in range(repeats):
            for name, fn in (("bare", run_bare), ("mira", run_mira)):
                topic = f"bench-{name}-{uuid.uuid4().hex[:6]}"
                create_topic({"bootstrap_servers": [bootstrap]}, topic, 6, 1)
                secs = fn(bootstrap, topic, path)
                best[name] = min(best.get(name, float("inf")), secs)
    out = {"docs": docs, "mb": nbytes / 1e6}
    for name in ("bare", "mira"):
        out[f"{name}_docs_s"] = docs / best[name]
        out[f"{name}_mb_s"] = nbytes / 1e6 / best[name]
    out["ratio"] = out["mira_docs_s"] / out["bare_docs_s"]
    return out


def markdown(r: dict[str, float], max_chars: int) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"\n## mira produce vs bare kafka-python (bench/produce.py, {date})\n\n"
        f"Machine: {platform.node() or 'dev box'}, 2 CPU cores, local single KRaft broker "
        f"(Kafka 4.1.1, same host), lz4, linger 20 ms, 256 KiB batches, acks=all, idempotent. "
        f"{r['docs']:.0f} stdlib documents cut to {max_chars} chars ({r['mb']:.1f} MB of JSON); "
        f"best of the runs.\n\n"
        "| producer | docs/s | MB/s |\n|---|---:|---:|\n"
        f"| bare kafka-python loop (baseline) | {r['bare_docs_s']:,.0f} | {r['bare_mb_s']:.1f} |\n"
        f"| `mira produce` (validate + re-serialise + progress) | {r['mira_docs_s']:,.0f} | "
        f"{r['mira_mb_s']:.1f} |\n\n"
        f"Ratio mira / bare: **{r['ratio']:.2f}x** (docs/s).\n"
    )


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--max-chars", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--append", type=Path, help="append a markdown section to this file")
    args = parser.parse_args()
    external = external_bootstrap()
    broker = None if external else KafkaBroker().start()
    try:
        bootstrap = external or (broker.bootstrap if broker else "")
        result = bench(bootstrap, args.docs, args.max_chars, args.repeats)
    finally:
        if broker is not None:
            broker.close()
    text = markdown(result, args.max_chars)
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main_cli()
