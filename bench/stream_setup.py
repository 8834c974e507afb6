"""Setup for bench/stream.py: model repositories, documents, Kafka topic fill and read rates."""

from __future__ import annotations

import json
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
K = 5
MODELS = {"minilm": f"MiniLM-L6 student shape (22.7M params, K={K})",
          "tiny": "tiny ONNX model with the same I/O (near-free: the scorer's own ceiling)"}


def build_tiny_repo(repo: Path, max_length: int) -> Path:
    """A near-free model with the same I/O (isolates the scorer's own overhead)."""
    from tests.integration.streaming import tiny_repo

    manifest = tiny_repo.build_tiny_repo(repo, {"stdlib": "bench"}, {"stdlib": 0.0},
                                         max_length=max_length, max_chars=max_length * 8)
    data = json.loads(manifest.read_text())
    data["fallback_group"] = "bench"
    manifest.write_text(json.dumps(data))
    return manifest


def build_repo(repo: Path, max_length: int) -> Path:
    """A MiniLM-shaped student repository (python flavour) and its manifest."""
    import shutil

    import torch

    from discovery.distill.student import Student, backbone_dir, load_backbone
    from discovery.export.onnx import export_onnx
    from discovery.export.triton_config import config_pbtxt

    torch.manual_seed(0)
    model = Student(load_backbone(), [1.0 / K] * K).eval()
    vdir = repo / "mira_bench" / "1"
    vdir.mkdir(parents=True)
    ids = np.ones((2, 16), np.int64)
    export_onnx(model, vdir / "model.onnx", ids, np.ones_like(ids))
    shutil.copy(ROOT / "discovery" / "triton_python_model.py", vdir / "model.py")
    (repo / "mira_bench" / "config.pbtxt").write_text(config_pbtxt("mira_bench", K, "python"))
    (repo / "tokenizer").mkdir()
    shutil.copy(backbone_dir() / "tokenizer.json", repo / "tokenizer" / "tokenizer.json")
    manifest = {
        "groups": {"bench": {"model": "mira_bench", "version": 1,
                             "anchors": [f"a{i}" for i in range(K)], "weights": [1 / K] * K,
                             "rubric_version": "bench"}},
        "source_groups": {"stdlib": "bench"}, "fallback_group": "bench",
        "thresholds": {"stdlib": 0.0}, "default_threshold": 0.0, "budget": 0.5,
        "tokenizer": "tokenizer/tokenizer.json", "max_length": max_length,
        "max_chars": max_length * 8,
    }
    path = repo / "mira_manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def documents(n: int) -> list[tuple[bytes, bytes]]:
    """Real text: slices of the Python standard library's source files."""
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    texts = [f.read_text(errors="replace") for f in files]
    out = []
    for i in range(n):
        t = texts[i % len(texts)]
        start = (i * 997) % max(1, len(t) - 3000)
        key = f"b{i:07d}"
        doc = {"id": key, "source": "stdlib", "text": t[start:start + 3000]}
        out.append((key.encode(), json.dumps(doc).encode()))
    return out


def produce(bootstrap: str, topic: str, docs: list[tuple[bytes, bytes]]) -> float:
    """Create the topic and produce the documents; returns the producer's docs/s."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, compression_type="lz4")
    t0 = time.perf_counter()
    for key, value in docs:
        producer.send(topic, key=key, value=value)
    producer.flush()
    rate = len(docs) / (time.perf_counter() - t0)
    producer.close()
    return rate


def consume_rate(bootstrap: str, topic: str, n: int) -> float:
    """docs/s of a bare kafka-python consumer reading the topic (no processing)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    seen, t0 = 0, 0.0
    while seen < n:
        for recs in consumer.poll(timeout_ms=500, max_records=500).values():
            t0 = t0 or time.perf_counter()
            seen += len(recs)
    consumer.close()
    return n / (time.perf_counter() - t0)
