"""`mira produce` against a real broker: 10,000 documents out and back, rejects, failures."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from mira.cli import main
from mira.contracts import Document

pytestmark = pytest.mark.integration

N_DOCS = 10_000


@pytest.fixture(scope="module")
def ten_thousand(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small_corpus documents repeated with distinct ids up to 10,000 lines."""
    docs = [
        Document.model_validate_json(line)
        for line in small_corpus.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert docs, "small_corpus is empty"
    path = tmp_path_factory.mktemp("produce") / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(N_DOCS):
            doc = docs[i % len(docs)].model_copy(update={"id": f"{docs[i % len(docs)].id}#{i}"})
            out.write(doc.model_dump_json() + "\n")
    return path


def _topic() -> str:
    return f"produce-{uuid.uuid4().hex[:8]}"


def _invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


def _consume(bootstrap: str, topic: str, expected: int) -> dict[bytes, bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
        fetch_max_bytes=50 * 1024 * 1024,
    )
    got: dict[bytes, bytes] = {}
    try:
        for message in consumer:
            got[message.key] = message.value
            if len(got) >= expected:
                break
    finally:
        consumer.close()
    return got


def test_produce_10k_and_consume_back(kafka_broker, ten_thousand: Path) -> None:
    topic = _topic()
    code, out = _invoke(
        [
            "produce",
            str(ten_thousand),
            "--bootstrap",
            kafka_broker.bootstrap,
            "--topic",
            topic,
            "--create-topic",
            "--partitions",
            "3",
            "--json",
        ]
    )
    assert code == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    want = {}
    for line in ten_thousand.read_bytes().splitlines():
        doc = Document.model_validate_json(line)
        want[doc.id.encode()] = doc.model_dump_json().encode()
    assert summary["sent"] == N_DOCS and summary["failed"] == 0 and summary["rejected"] == 0
    assert summary["bytes"] == sum(len(v) for v in want.values())
    got = _consume(kafka_broker.bootstrap, topic, N_DOCS)
    assert len(got) == N_DOCS
    assert got.keys() == want.keys()
    assert sum(len(v) for v in got.values()) == summary["bytes"]
    assert got == want


def test_rejects_file_and_strict(kafka_broker, tmp_path: Path) -> None:
    good = json.dumps({"id": "a", "source": "s", "text": "t"})
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([good, "{broken", good.replace('"a"', '"b"')]) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    topic = _topic()
    base = [
        "produce",
        str(path),
        "--bootstrap",
        kafka_broker.bootstrap,
        "--topic",
        topic,
        "--create-topic",
        "--partitions",
        "1",
    ]
    code, out = _invoke(
        [*base, "--rejects", str(rejects), "--json", "--compression", "zstd", "--rate", "1000"]
    )
    assert code == 0, out
    assert json.loads(out.strip().splitlines()[-1])["rejected"] == 1
    letter = json.loads(rejects.read_text())
    assert letter["origin"].endswith("mixed.jsonl:2") and letter["raw"] == "{broken"

    code, out = _invoke([*base, "--strict"])
    assert code == 1
    assert "mixed.jsonl:2" in out and "sent 1," in out


def test_delivery_failures_make_the_exit_code_non_zero(kafka_broker, tmp_path: Path) -> None:
    topic = _topic()
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "2000"})])
    finally:
        admin.close()
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"id": "big", "source": "s", "text": os.urandom(20_000).hex()}))
    code, out = _invoke(
        ["produce", str(path), "--bootstrap", kafka_broker.bootstrap, "--topic", topic, "--json"]
    )
    assert code == 1, out
    assert json.loads(out.strip().splitlines()[-2])["failed"] == 1
