"""A real Kafka broker: transactions commit and abort on one node (exactly-once needs this)."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


def _topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name


def _read(bootstrap: str, topic: str, isolation: str) -> list[bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        isolation_level=isolation,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    try:
        return [m.value for m in consumer]
    finally:
        consumer.close()


def test_transaction_commit_and_abort(kafka_broker) -> None:
    topic = _topic(kafka_broker.bootstrap)
    producer = KafkaProducer(
        bootstrap_servers=kafka_broker.bootstrap, transactional_id=f"tx-{uuid.uuid4().hex[:6]}"
    )
    try:
        producer.init_transactions()
        producer.begin_transaction()
        producer.send(topic, key=b"k1", value=b"committed")
        producer.commit_transaction()
        producer.begin_transaction()
        producer.send(topic, key=b"k2", value=b"aborted")
        producer.flush()  # on the broker, then aborted (not just dropped from the buffer)
        producer.abort_transaction()
    finally:
        producer.close()
    assert _read(kafka_broker.bootstrap, topic, "read_committed") == [b"committed"]
    assert b"aborted" in _read(kafka_broker.bootstrap, topic, "read_uncommitted")


def test_broker_exposes_a_log(kafka_broker) -> None:
    if kafka_broker.log_path is not None:  # None only for an external MIRA_KAFKA_BOOTSTRAP
        assert "Kafka Server started" in kafka_broker.log_path.read_text()
