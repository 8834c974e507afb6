"""Authentication and ACLs on the real secure broker: least privilege, clear refusals."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
)

from tests.fixtures.security import SecureKafka
from tests.integration.security.conftest import run_mira

pytestmark = pytest.mark.integration

DOC = b'{"id": "d1", "source": "src_a", "text": "hello"}\n'


def _write(client: dict[str, object], topic: str) -> None:
    producer = KafkaProducer(**client, acks="all", max_block_ms=10_000)
    try:
        producer.send(topic, key=b"k", value=b"v").get(timeout=10)
    finally:
        producer.close()


def _read_one(client: dict[str, object], topic: str, group: str | None) -> list[bytes]:
    consumer = KafkaConsumer(
        topic, **client, group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    try:
        first = next(iter(consumer), None)  # the first record, or none within 5 s
        return [first.value] if first is not None else []
    finally:
        consumer.close()


def test_secure_broker_started(secure_kafka: SecureKafka) -> None:
    text = secure_kafka.log_path.read_text()
    assert "Kafka Server started" in text and "SASL_SSL" in text
    print(f"\nsecure broker (format + start + 3 SCRAM users) in {secure_kafka.start_s:.1f} s")


def test_scorer_reads_its_input_but_cannot_write_it_nor_anything_else(
    secure_kafka: SecureKafka, secure_topics: dict[str, str]
) -> None:
    _write(secure_kafka.client("producer"), secure_topics["docs"])
    scorer = secure_kafka.client("scorer")
    assert _read_one(scorer, secure_topics["docs"], secure_topics["group"]) == [b"v"]
    with pytest.raises(TopicAuthorizationFailedError):
        _write(scorer, secure_topics["docs"])
    with pytest.raises(GroupAuthorizationFailedError):  # another consumer group
        _read_one(scorer, secure_topics["docs"], secure_topics["group"] + "-other")
    with pytest.raises(TopicAuthorizationFailedError):  # reading its own output topic
        _read_one(scorer, secure_topics["accepted"], secure_topics["group"])
    with pytest.raises(TopicAuthorizationFailedError):  # the producer cannot read the input
        _read_one(secure_kafka.client("producer"), secure_topics["docs"], None)


def test_mtls_principal_is_the_certificate_name(
    secure_kafka: SecureKafka, secure_topics: dict[str, str]
) -> None:
    """Mutual TLS: certificate CN=scorer is User:scorer, with the same ACLs as over SCRAM."""
    mtls = secure_kafka.mtls("scorer")
    _write(secure_kafka.mtls("producer"), secure_topics["docs"])
    assert _read_one(mtls, secure_topics["docs"], secure_topics["group"]) == [b"v"]
    with pytest.raises(TopicAuthorizationFailedError):
        _write(mtls, secure_topics["docs"])


def test_mira_produce_as_scorer_or_nobody_is_refused_clearly(
    secure_kafka: SecureKafka, secure_topics: dict[str, str], tmp_path: Path
) -> None:
    """`mira produce` stops at the first refusal: exit 1, one line naming the error and topic."""
    path = tmp_path / "docs.jsonl"
    path.write_bytes(DOC * 2000)
    for user in ("scorer", "nobody"):
        done = run_mira(
            ["produce", str(path), "--topic", secure_topics["docs"]],
            secure_kafka.env(user),
            timeout_s=60,
        )
        last = done.out.strip().splitlines()[-1]
        print(f"\nmira produce as {user}: exit {done.code} in {done.seconds:.1f} s: {last}")
        assert done.code == 1, done.out
        assert last.startswith("mira: error: TopicAuthorizationFailedError"), done.out
        assert secure_topics["docs"] in last
        assert done.seconds < 20, "a refused producer must not retry for every document"


def test_wrong_password_and_no_certificate_are_refused(secure_kafka: SecureKafka) -> None:
    """Refused at the handshake, and the broker's audit log says why (kafka-python itself only
    sees the connection closed, and retries until its bootstrap timeout)."""
    log = secure_kafka.log_path
    before = log.stat().st_size
    wrong = secure_kafka.client("producer", password="not-the-password")
    began = time.monotonic()
    with pytest.raises(KafkaTimeoutError):
        KafkaProducer(**wrong, bootstrap_timeout_ms=3000)
    no_cert = {
        k: v
        for k, v in secure_kafka.mtls("producer").items()
        if k not in ("ssl_certfile", "ssl_keyfile")
    }
    with pytest.raises(KafkaTimeoutError):
        KafkaProducer(**no_cert, bootstrap_timeout_ms=3000)
    with log.open("rb") as fh:
        fh.seek(before)
        audit = fh.read().decode(errors="replace")
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in audit
    assert "SSL handshake failed" in audit
    print(f"\nwrong password / no client certificate refused in {time.monotonic() - began:.1f} s")
