"""Kafka helpers for the streaming tests: topics, a document producer, a topic reader."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

BIG_TOPIC = {"max.message.bytes": str(4 * 1024 * 1024)}  # room for near-limit documents


def create_topics(
    bootstrap: str, names: Iterable[str], partitions: int = 3, config: dict[str, str] | None = None
) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    names = list(names)
    try:
        admin.create_topics([NewTopic(n, partitions, 1, topic_configs=config or {}) for n in names])
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:  # wait until the broker serves metadata for every new topic
        deadline = time.monotonic() + 30
        while not all(consumer.partitions_for_topic(n) for n in names):
            assert time.monotonic() < deadline, f"topics {names} not visible"
            time.sleep(0.2)
    finally:
        consumer.close()


def make_docs(n: int, sources: list[str], bad_every: int = 0) -> list[tuple[str, bytes]]:
    """(key, value) pairs; every ``bad_every``-th is malformed JSON (dead-letter material)."""
    out = []
    for i in range(n):
        key = f"d{i:06d}"
        if bad_every and i % bad_every == bad_every - 1:
            out.append((key, b'{"id": "' + key.encode() + b'", broken'))
            continue
        src = sources[i % len(sources)]
        words = " ".join(f"w{(i * 7 + j) % 97}" for j in range(i % 40))
        text = f"document {i} from {src}: {words}"
        out.append((key, json.dumps({"id": key, "source": src, "text": text}).encode()))
    return out


def produce(bootstrap: str, topic: str, docs: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks="all")
    for key, value in docs:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def kcat_produce(bootstrap: str, topic: str, docs: list[tuple[str, bytes]], workdir: Path) -> None:
    """Write raw (key, value) pairs with kcat, a client nobody here wrote (one message a line)."""
    path = workdir / f"{topic}.kcat"
    path.write_bytes(b"".join(k.encode() + KCAT_KEY + v + b"\n" for k, v in docs))
    cmd = [
        "kcat",
        "-P",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-K",
        "\\x1e\\x1d",
        "-l",
        "-X",
        "message.max.bytes=8000000",
        "-X",
        "enable.idempotence=true",
        str(path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


KCAT_KEY = b"\x1e\x1d"


def trickle(
    bootstrap: str,
    topic: str,
    docs: list[tuple[str, bytes]],
    chunk: int = 100,
    pause_s: float = 0.1,
) -> None:
    """Produce in small chunks with pauses, so documents keep flowing for a while."""
    for i in range(0, len(docs), chunk):
        produce(bootstrap, topic, docs[i : i + chunk])
        time.sleep(pause_s)


@dataclass
class Outputs:
    records: dict[str, list[Any]] = field(default_factory=dict)

    def ids(self, topic: str) -> list[str]:
        return [r.key.decode() for r in self.records.get(topic, [])]

    def total(self) -> int:
        return sum(len(v) for v in self.records.values())

    def id_counts(self) -> Counter[str]:
        return Counter(i for t in self.records for i in self.ids(t))


def read_all(
    bootstrap: str,
    topics: list[str],
    expect_ids: set[str],
    timeout_s: float,
    read_committed: bool = True,
    client: dict[str, Any] | None = None,
) -> Outputs:
    """Read topics from the start until every expected id is seen (or timeout), then 1 s more.

    ``client``: connection kwargs (TLS, SASL) replacing ``bootstrap``."""
    consumer = KafkaConsumer(
        *topics,
        **(client or {"bootstrap_servers": bootstrap}),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        isolation_level="read_committed" if read_committed else "read_uncommitted",
    )
    out = Outputs({t: [] for t in topics})
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    settle: float | None = None
    try:
        while time.monotonic() < deadline:
            for tp, recs in consumer.poll(timeout_ms=200).items():
                out.records[tp.topic].extend(recs)
                seen.update(r.key.decode() for r in recs)
            if settle is None and expect_ids <= seen:
                settle = time.monotonic() + 1.0
            if settle is not None and time.monotonic() >= settle:
                break
    finally:
        consumer.close()
    return out


def kcat_keys(bootstrap: str, topics: list[str], read_committed: bool = True) -> list[str]:
    """Every message key of ``topics`` as kcat reads them (a second, independent reader)."""
    keys: list[str] = []
    for topic in topics:
        level = "read_committed" if read_committed else "read_uncommitted"
        cmd = [
            "kcat",
            "-C",
            "-b",
            bootstrap,
            "-t",
            topic,
            "-e",
            "-q",
            "-f",
            "%k\\n",
            "-X",
            f"isolation.level={level}",
        ]
        done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        keys += [k.decode() for k in done.stdout.splitlines() if k]
    return keys
