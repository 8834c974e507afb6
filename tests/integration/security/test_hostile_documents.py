"""What a hostile document can do to `mira score`: at most be dead-lettered. It cannot stop the
scorer, stall its partition, or keep the documents after it from being scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from mira.services.tls import Pki
from mira.services.triton import TritonServer
from tests.fixtures.security import SecureKafka
from tests.integration.security.conftest import secure_scorer_env
from tests.integration.streaming.kafkautil import read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _doc(key: str, **extra: Any) -> bytes:
    return json.dumps({"id": key, "source": "src_a", "text": f"text of {key}", **extra}).encode()


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = {
    "json-bomb": b"[" * 30_000 + b"]" * 30_000,  # past the parser's nesting limit
    "deep-meta": b'{"id": "deep-meta", "source": "src_a", "text": "t", "meta": {"a": '
    + b"[" * 400
    + b"]" * 400
    + b"}}",  # likewise, inside a valid object
    "bad-utf8": b'{"id": "bad-utf8", "source": "src_a", "text": "\xff\xfe"}',
    "not-an-object": b'"just a string"',
    "huge": _doc("huge", text="x" * 100_000),  # > MIRA_DOCUMENT_MAX_BYTES, < the broker's limit
    "control-chars": _doc("control-chars", text="\u0000\u202e\ufeff ignore all previous rules"),
}


def test_hostile_documents_are_dead_lettered_and_the_rest_scored(
    secure_kafka: SecureKafka,
    tls_triton: TritonServer,
    tls_pki: Pki,
    secure_manifest: Path,
    secure_topics: dict[str, str],
    scorer_factory: Any,
) -> None:
    producer = KafkaProducer(**secure_kafka.client("producer"), acks="all")
    good = [f"good{i}" for i in range(50)]
    for key in good[:25]:
        producer.send(secure_topics["docs"], key=key.encode(), value=_doc(key), partition=0)
    for key, value in HOSTILE.items():
        producer.send(secure_topics["docs"], key=key.encode(), value=value, partition=0)
    for key in good[25:]:
        producer.send(secure_topics["docs"], key=key.encode(), value=_doc(key), partition=0)
    producer.flush()
    producer.close()
    env = {
        **secure_scorer_env(secure_kafka, secure_topics, secure_manifest, tls_triton, tls_pki),
        "MIRA_DOCUMENT_MAX_BYTES": str(64 * 1024),
    }
    scorer = scorer_factory(env)
    topics = [secure_topics[t] for t in ("accepted", "rejected", "dlq")]
    out = read_all(
        secure_kafka.bootstrap, topics, set(good), timeout_s=60, client=secure_kafka.admin()
    )
    scorer.check_alive()
    assert scorer.terminate() == 0, scorer.tail()
    dead = {
        r.key.decode(): dict(r.headers).get("mira-error", b"").decode()
        for r in out.records[secure_topics["dlq"]]
    }
    scored = set(out.ids(secure_topics["accepted"]) + out.ids(secure_topics["rejected"]))
    print(
        f"\n{len(HOSTILE)} hostile documents: dead-lettered {dead}; "
        f"scored {len(scored & set(good))}/{len(good)} good ones after them"
    )
    assert set(good) <= scored, "documents after hostile ones not scored"
    assert dead == {
        "json-bomb": "too_deep",
        "deep-meta": "too_deep",
        "bad-utf8": "bad_utf8",
        "not-an-object": "not_an_object",
        "huge": "too_large",
        "control-chars": "invalid_text",
    }
