"""Setup for the streaming benchmarks: documents, model repositories, topics.

Documents are a real multi-source corpus (``mira corpus build`` over this machine's files: code,
docs, configs) so message sizes and characters per token are what a deployment sees.  The bench
repository serves a near-free model with the students' exact I/O (tests' tiny ONNX model in the
python backend): Triton costs the scorer nothing then, and what is measured is the scorer's own
CPU per document.  Its manifests (one per max_length) carry per-source characters per token
measured on the documents, as ``mira export`` would, so the scorer pre-cuts like in production.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MAX_CHARS = {128: 2048, 256: 2048, 512: 4096}  # the hard ceiling of the pre-cut per length
GROUP = "bench"


def corpus(path: Path | None, work: Path, n: int) -> Path:
    """``path``, else a corpus of ``n`` documents built from this machine's files."""
    if path is not None:
        return path
    out = work / "corpus.jsonl"
    if not out.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mira.cli",
                "corpus",
                "build",
                "--out",
                str(out),
                "--max-docs",
                str(n),
                "--seed",
                "1",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return out


def documents(path: Path, n: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of ``n`` documents: the corpus lines, repeated with new ids if needed."""
    lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    out = []
    for i in range(n):
        doc = json.loads(lines[i % len(lines)])
        if i >= len(lines):
            doc["id"] = f"{doc['id']}#{i // len(lines)}"
        out.append((doc["id"].encode(), json.dumps(doc).encode()))
    return out


def texts_and_sources(docs: list[tuple[bytes, bytes]]) -> tuple[list[str], list[str]]:
    parsed = [json.loads(v) for _, v in docs]
    return [d["text"] for d in parsed], [d["source"] for d in parsed]


def build_tiny_repo(
    repo: Path, docs: list[tuple[bytes, bytes]], lengths: list[int]
) -> dict[int, Path]:
    """The near-free model and one manifest per max_length (``mira_manifest_<L>.json``)."""
    from discovery.export.calibrate import chars_per_token
    from mira.contracts import Document
    from mira.engine.tokenize import BatchTokenizer
    from tests.integration.streaming.tiny_repo import build_tiny_repo as tiny

    sample = [Document.model_validate_json(v) for _, v in docs[:2000]]
    sources = sorted({d.source for d in sample})
    base = tiny(repo, dict.fromkeys(sources, GROUP), dict.fromkeys(sources, 2.5))
    out = {}
    for length in lengths:
        data = json.loads(base.read_text())
        tok = BatchTokenizer(repo / data["tokenizer"], length, MAX_CHARS[length])
        per, default = chars_per_token(sample, tok)
        data.update(
            max_length=length,
            max_chars=MAX_CHARS[length],
            chars_per_token=per,
            default_chars_per_token=default,
            fallback_group=GROUP,
        )
        path = repo / f"mira_manifest_{length}.json"
        path.write_text(json.dumps(data, indent=1))
        out[length] = path
    return out


def precut_texts(manifest: Path, texts: list[str], sources: list[str], margin: float) -> list[str]:
    """The texts as the scorer hands them to its tokenizer (same pre-cut)."""
    from mira.contracts import RepositoryManifest
    from mira.engine.tokenize import pre_cut

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    return [
        pre_cut(t, m.chars_per_token_of(s), m.max_length, m.max_chars, margin)
        for t, s in zip(texts, sources, strict=True)
    ]


def tokenizer(manifest: Path) -> Any:
    from mira.contracts import RepositoryManifest
    from mira.engine.tokenize import BatchTokenizer

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    return BatchTokenizer.from_manifest(manifest.parent, m)


def output_topics(bootstrap: str, partitions: int) -> None:
    """The scorer's output topics with ``partitions`` partitions each, like the input (a
    broker's auto-created topic has one), unless they exist already."""
    from kafka.errors import TopicAlreadyExistsError

    from mira.settings import TopicSettings
    from tests.integration.streaming.kafkautil import create_topics

    t = TopicSettings()
    with contextlib.suppress(TopicAlreadyExistsError):
        names = [n for n in dict.fromkeys((t.accepted, t.rejected, t.dlq)) if n]
        create_topics(bootstrap, names, partitions=partitions)


def fill_topic(
    bootstrap: str, topic: str, docs: list[tuple[bytes, bytes]], partitions: int
) -> None:
    """Create ``topic`` and write the documents (lz4, like ``mira produce``)."""
    from tests.integration.streaming.kafkautil import create_topics

    create_topics(bootstrap, [topic], partitions=partitions)
    try:
        from confluent_kafka import Producer
    except ImportError:  # kafka-python is always there
        _fill_kafka_python(bootstrap, topic, docs)
        return
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "compression.type": "lz4",
            "enable.idempotence": True,
        }
    )
    for key, value in docs:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(60) != 0:
        raise RuntimeError(f"could not write the bench documents to {topic}")


def _fill_kafka_python(bootstrap: str, topic: str, docs: list[tuple[bytes, bytes]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, compression_type="lz4", acks="all"
    )
    for key, value in docs:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
