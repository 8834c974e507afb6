"""End to end over SASL_SSL + ACLs and Triton over mutual TLS: ``mira produce`` as the producer
principal, ``mira score`` as the scorer principal, both delivery modes; every document comes out
exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from mira.services.tls import Pki
from mira.services.triton import TritonServer
from tests.fixtures.security import SecureKafka
from tests.integration.security.conftest import run_mira, secure_scorer_env
from tests.integration.streaming.conftest import SOURCES
from tests.integration.streaming.kafkautil import make_docs, read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_DOCS = 600
N_BAD = 5
OUT = ("accepted", "rejected", "dlq")


def _produce(secure_kafka: SecureKafka, topics: dict[str, str], tmp_path: Path) -> set[str]:
    """Good documents through `mira produce` (password from a file), malformed ones raw."""
    docs = make_docs(N_DOCS, SOURCES)
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _, value in docs))
    secret = tmp_path / "producer.password"
    secret.write_text(secure_kafka.passwords["producer"] + "\n")
    done = run_mira(
        ["produce", str(path), "--topic", topics["docs"], "--json"],
        secure_kafka.env("producer", password_file=secret),
    )
    assert done.code == 0, done.out
    summary = json.loads(done.out.strip().splitlines()[-1])
    assert summary["sent"] == N_DOCS and summary["failed"] == 0, summary
    raw = KafkaProducer(**secure_kafka.client("producer"), acks="all")
    bad = [f"bad{i}" for i in range(N_BAD)]
    for key in bad:
        raw.send(topics["docs"], key=key.encode(), value=b'{"id": "' + key.encode() + b'", x')
    raw.flush()
    raw.close()
    return {key for key, _ in docs} | set(bad)


@pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
def test_produce_and_score_over_sasl_ssl_and_triton_tls(
    delivery: str,
    secure_kafka: SecureKafka,
    tls_triton: TritonServer,
    tls_pki: Pki,
    secure_manifest: Path,
    secure_topics: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
) -> None:
    ids = _produce(secure_kafka, secure_topics, tmp_path)
    env = secure_scorer_env(
        secure_kafka, secure_topics, secure_manifest, tls_triton, tls_pki, delivery=delivery
    )
    scorer = scorer_factory(env)
    out = read_all(
        secure_kafka.bootstrap,
        [secure_topics[t] for t in OUT],
        ids,
        timeout_s=120,
        read_committed=True,
        client=secure_kafka.admin(),
    )
    assert scorer.terminate() == 0, scorer.tail()
    counts = out.id_counts()
    per_topic = {t: len(out.records[secure_topics[t]]) for t in OUT}
    dup = sum(1 for c in counts.values() if c > 1)
    print(
        f"\n{delivery} over SASL_SSL + Triton mTLS: {len(ids)} in, {out.total()} out "
        f"{per_topic}, {len(set(counts) & ids)} distinct ids, {dup} duplicated"
    )
    assert set(counts) == ids, f"{len(ids - set(counts))} documents lost"
    assert dup == 0, f"{dup} documents came out more than once"
    assert set(out.ids(secure_topics["dlq"])) == {f"bad{i}" for i in range(N_BAD)}
    assert per_topic["accepted"] > 0 and per_topic["rejected"] > 0


def test_mira_score_without_acls_exits_with_one_clear_line(
    secure_kafka: SecureKafka,
    tls_triton: TritonServer,
    tls_pki: Pki,
    secure_manifest: Path,
    secure_topics: dict[str, str],
    scorer_factory: Any,
) -> None:
    """Exactly-once: the transactional id is refused at start (at-least-once: the group is
    refused, after the scorer's 30 s wait for the input topic's metadata)."""
    env = secure_scorer_env(
        secure_kafka, secure_topics, secure_manifest, tls_triton, tls_pki, user="nobody"
    )
    scorer = scorer_factory(env)
    assert scorer.proc is not None
    code = scorer.proc.wait(60)
    last = scorer.tail(1)
    print(f"\nmira score as nobody: exit {code}: {last}")
    assert code == 1
    assert last.startswith("mira: error: scorer failed: TransactionalIdAuthorizationFailedError")
