"""Streaming scorer throughput: end to end through Kafka vs Triton alone vs a naive loop.

    .venv/bin/python bench/stream.py --docs 3000 --batch 32 --max-length 128

Starts a real Kafka broker (or uses MIRA_KAFKA_BOOTSTRAP) and a real Triton serving a
MiniLM-L6-shaped student (the real backbone, an untrained head, exported like the exporter does:
ONNX in the python backend).  Three measurements on the same documents, model and batch size:
  triton-only  pre-tokenized batches sent with the scorer's async client (max_in_flight requests)
  end-to-end   `mira score` consuming the topic, scoring, producing, committing (startup excluded)
  naive        one message at a time: poll, parse, tokenize, infer, produce+flush, commit
Appends a dated section with the ratios to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.stream_setup import (  # noqa: E402
    MODELS,
    build_repo,
    build_tiny_repo,
    consume_rate,
    documents,
    produce,
)


async def _triton_only(url: str, batches: list[tuple[np.ndarray, np.ndarray]],
                       in_flight: int) -> float:
    from scorer.triton_backend import AsyncTritonScorer

    client = AsyncTritonScorer(url, in_flight)
    await client.score("mira_bench", "1", *batches[0])  # warm-up
    t0 = time.perf_counter()
    await asyncio.gather(*(client.score("mira_bench", "1", i, m) for i, m in batches))
    dt = time.perf_counter() - t0
    await client.close()
    return sum(len(i) for i, _ in batches) / dt


def triton_only(url: str, manifest: Path, docs: list[tuple[bytes, bytes]], batch: int,
                in_flight: int) -> float:
    from scorer.tokenize import BatchTokenizer

    from mira.contracts import RepositoryManifest

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    tok = BatchTokenizer.from_manifest(manifest.parent, m)
    texts = [json.loads(v)["text"] for _, v in docs]
    batches = [tok.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]
    return asyncio.run(_triton_only(url, batches, in_flight))


def tokenize_rates(manifest: Path, docs: list[tuple[bytes, bytes]], batch: int) -> dict[str, float]:
    """docs/s of the scorer's TokenizerPool with 1 (a thread) and 2 worker processes."""
    from scorer.tokenpool import TokenizerPool

    from mira.contracts import RepositoryManifest

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    texts = [json.loads(v)["text"] for _, v in docs]
    chunks = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    out = {}
    for workers in (1, 2):
        pool = TokenizerPool(manifest.parent / m.tokenizer, m.max_length, m.max_chars, workers)
        out[f"tokenize x{workers}"] = len(texts) / asyncio.run(_time_pool(pool, chunks, workers))
        pool.close()
    return out


async def _time_pool(pool: Any, chunks: list[list[str]], warm: int) -> float:
    await asyncio.gather(*(pool.encode(c) for c in chunks[:warm]))  # start the workers
    t0 = time.perf_counter()
    await asyncio.gather(*(pool.encode(c) for c in chunks))
    return time.perf_counter() - t0


def _metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines()
               if x.startswith(name + "{") or x.startswith(name + " "))


def end_to_end(env: dict[str, str], n: int, port: int, log: Path) -> float:
    """docs/s from the first consumed document until all n are delivered and committed."""
    done_names = ("mira_documents_accepted_total", "mira_documents_rejected_total",
                  "mira_documents_dead_lettered_total")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mira.cli", "score"],
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        while _metric(port, "mira_documents_in_total") < 1:
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.01)
        t0 = time.perf_counter()
        while sum(_metric(port, m) for m in done_names) < n:
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.05)
        return n / (time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.wait(60)


def naive(bootstrap: str, topic: str, out_topic: str, url: str, manifest: Path, n: int) -> float:
    """The loop a first version would write: one message per poll, infer, produce, commit."""
    from kafka import KafkaConsumer, KafkaProducer
    from scorer.route import decide
    from scorer.tokenize import BatchTokenizer
    from scorer.triton_backend import TritonBackend
    from scorer.validate import parse_document

    from mira.contracts import RepositoryManifest

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    tok = BatchTokenizer.from_manifest(manifest.parent, m)
    backend = TritonBackend(url, model_version="1")
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"naive{uuid.uuid4()}",
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             max_poll_records=1)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    done, t0 = 0, None
    while done < n:
        for recs in consumer.poll(timeout_ms=1000).values():
            t0 = t0 or time.perf_counter()
            doc = parse_document(recs[0].value, 1 << 20)
            ids, mask = tok.encode([doc.text])  # type: ignore[union-attr]
            anchors, score = backend.score("mira_bench", ids, mask)
            named = dict(zip(m.groups["bench"].anchors, anchors[0].tolist(), strict=True))
            out = decide(doc, "bench", named, float(score[0]), m)  # type: ignore[arg-type]
            producer.send(out_topic, key=recs[0].key, value=out.model_dump_json().encode())
            producer.flush()
            consumer.commit()
            done += 1
    rate = n / (time.perf_counter() - (t0 or time.perf_counter()))
    consumer.close()
    producer.close()
    return rate


def report(args: argparse.Namespace, rates: dict[str, float]) -> str:
    e2e, tri, nai = rates["end-to-end"], rates["triton-only"], rates["naive"]
    cpu = platform.processor() or platform.machine()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    ratio = f"{e2e / tri:.2f} of Triton-only"
    return "\n".join([
        "",
        f"## Streaming scorer, bench/stream.py ({stamp})",
        "",
        f"Machine: {os.cpu_count()} CPU cores ({cpu}), no GPU, shared (load average "
        f"{rates['load']:.1f}); Kafka 4.1.1 (1 broker, 3 partitions), Triton 2.51 python "
        "backend + onnxruntime CPU, all on the same host.",
        f"Model: {MODELS[args.model]}, max_length {args.max_length}, "
        f"text pre-cut to {args.max_length * 8} chars, batch {args.batch}, "
        f"max_in_flight {args.in_flight}, tokenizer_workers {args.tokenizer_workers}, "
        f"{args.docs} documents (3,000-char stdlib slices).",
        "",
        "| path | docs/s | ratio |",
        "|---|---:|---:|",
        f"| Triton only (pre-tokenized, same batches; mean of runs before and after, spread "
        f"{rates['triton-spread']:.0%}) | {tri:.1f} | 1.00 (baseline) |",
        f"| end to end `mira score` ({args.delivery}) | {e2e:.1f} | {ratio} |",
        f"| naive one-at-a-time loop ({args.naive_docs} docs) | {nai:.1f} | "
        f"end to end is {e2e / nai:.1f}x faster |",
        "",
        f"Tokenization alone (TokenizerPool, same batches): {rates['tokenize x1']:.0f} docs/s "
        f"in a thread, {rates['tokenize x2']:.0f} docs/s with 2 worker processes; bare "
        f"kafka-python: consume {rates['consume']:.0f} docs/s, produce (lz4, acks=all) "
        f"{rates['produce']:.0f} docs/s.",
        "",
        "On this host the scorer's tokenization, Kafka client and Triton's ONNX inference share "
        "the same cores, so the end-to-end/Triton ratio is a lower bound of the ratio with "
        "Triton on a GPU node.",
        "",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--naive-docs", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--in-flight", type=int, default=4)
    ap.add_argument("--tokenizer-workers", type=int, default=1)
    ap.add_argument("--delivery", default="at-least-once")
    ap.add_argument("--model", choices=["minilm", "tiny"], default="minilm",
                    help="tiny: a near-free model, measures the scorer's own ceiling")
    ap.add_argument("--no-write", action="store_true", help="do not append to benchmarks.md")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rates = run(args)
    text = report(args, rates)
    print(text)
    if not args.no_write:
        with (ROOT / "docs" / "benchmarks.md").open("a") as fh:
            fh.write(text)


def run(args: argparse.Namespace) -> dict[str, float]:
    from mira.services.kafka import ExternalKafka, KafkaBroker, external_bootstrap

    work = Path(tempfile.mkdtemp(prefix="mira-bench-"))
    builder = build_tiny_repo if args.model == "tiny" else build_repo
    manifest = builder(work / "repo", args.max_length)
    ext = external_bootstrap()
    kafka = ExternalKafka(ext) if ext else KafkaBroker(work / "kafka")
    kafka.start()
    try:
        return _measure(args, kafka, manifest, work)
    finally:
        kafka.stop()


def _measure(args: argparse.Namespace, kafka: Any, manifest: Path, work: Path
             ) -> dict[str, float]:
    from mira.services.common import free_port
    from mira.services.triton import TritonServer

    with TritonServer(manifest.parent, work / "triton") as triton:
        triton.load_model("mira_bench")
        run_id = uuid.uuid4().hex[:6]
        topic = f"bench{run_id}.docs"
        docs = documents(args.docs)
        rates = {"produce": produce(kafka.bootstrap, topic, docs),
                 "consume": consume_rate(kafka.bootstrap, topic, len(docs)),
                 **tokenize_rates(manifest, docs, args.batch)}
        rates["triton-only"] = triton_only(triton.grpc_url, manifest, docs, args.batch,
                                           args.in_flight)
        port = free_port()
        env = {"MIRA_KAFKA_BOOTSTRAP": kafka.bootstrap, "MIRA_TOPICS_INPUT": topic,
               "MIRA_TOPICS_ACCEPTED": f"bench{run_id}.acc", "MIRA_TOPICS_REJECTED": "",
               "MIRA_TOPICS_DLQ": f"bench{run_id}.dlq", "MIRA_SCORER_GROUP_ID": f"g{run_id}",
               "MIRA_SCORER_MANIFEST": str(manifest), "MIRA_TRITON_GRPC_URL": triton.grpc_url,
               "MIRA_SCORER_METRICS_PORT": str(port), "MIRA_SCORER_BATCH_SIZE": str(args.batch),
               "MIRA_SCORER_DELIVERY": args.delivery,
               "MIRA_TRITON_MAX_IN_FLIGHT": str(args.in_flight),
               "MIRA_SCORER_TOKENIZER_WORKERS": str(args.tokenizer_workers)}
        rates["end-to-end"] = end_to_end(env, args.docs, port, work / "scorer.log")
        # Triton-only again after the end-to-end run: the baseline is the mean of both, so a
        # change of load on this shared host during the run shows up as their spread
        before = rates["triton-only"]
        after = triton_only(triton.grpc_url, manifest, docs, args.batch, args.in_flight)
        rates["triton-only"] = (before + after) / 2
        rates["triton-spread"] = abs(before - after) / rates["triton-only"]
        rates["load"] = os.getloadavg()[0]
        rates["naive"] = naive(kafka.bootstrap, topic, f"bench{run_id}.naive", triton.grpc_url,
                               manifest, min(args.naive_docs, args.docs))
    return rates


if __name__ == "__main__":
    main()
