"""Delivery guarantees of ``mira score`` against a real Kafka broker and a real Triton."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import SOURCES, scorer_env
from tests.integration.streaming.kafkautil import make_docs, produce, read_all, trickle

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUT = ("accepted", "rejected", "dlq")


def _outputs(bootstrap: str, topics: dict[str, str], n: int, committed: bool = True) -> Any:
    ids = {f"d{i:06d}" for i in range(n)}
    return read_all(bootstrap, [topics[t] for t in OUT], ids, timeout_s=120,
                    read_committed=committed)


def test_exactly_once_kill9_restart_no_loss_no_duplicates(
    kafka_broker: Any, stream_triton: TritonServer, stream_manifest: Path,
    topics: dict[str, str], scorer_factory: Any,
) -> None:
    docs = make_docs(4000, SOURCES, bad_every=97)
    env = scorer_env(kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url,
                     "exactly-once")
    produce(kafka_broker.bootstrap, topics["docs"], docs[:2000])
    first = scorer_factory(env)
    first.wait_for("mira_commits_total", 1)
    first.kill9()
    produce(kafka_broker.bootstrap, topics["docs"], docs[2000:])
    second = scorer_factory(env)
    out = _outputs(kafka_broker.bootstrap, topics, len(docs))
    assert second.terminate() == 0
    counts = out.id_counts()
    assert set(counts) == {k for k, _ in docs}, "documents lost"
    dup = {k: c for k, c in counts.items() if c > 1}
    assert not dup, f"{len(dup)} duplicates in exactly-once mode"


def test_at_least_once_kill9_restart_nothing_lost(
    kafka_broker: Any, stream_triton: TritonServer, stream_manifest: Path,
    topics: dict[str, str], scorer_factory: Any,
) -> None:
    docs = make_docs(10_000, SOURCES, bad_every=97)
    env = scorer_env(kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url)
    produce(kafka_broker.bootstrap, topics["docs"], docs[:5000])
    first = scorer_factory(env)
    first.wait_for("mira_commits_total", 1)
    first.kill9()
    produce(kafka_broker.bootstrap, topics["docs"], docs[5000:])
    second = scorer_factory(env)
    out = _outputs(kafka_broker.bootstrap, topics, len(docs), committed=False)
    assert second.terminate() == 0
    assert set(out.id_counts()) == {k for k, _ in docs}
    dead = out.records[topics["dlq"]]
    assert len({r.key for r in dead}) == sum(1 for _, v in docs if b"broken" in v)


def test_triton_outage_pauses_then_resumes_by_itself(
    kafka_broker: Any, stream_triton: TritonServer, stream_manifest: Path,
    topics: dict[str, str], scorer_factory: Any,
) -> None:
    import time

    docs = make_docs(3000, SOURCES)
    env = scorer_env(kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url)
    produce(kafka_broker.bootstrap, topics["docs"], docs[:1000])
    scorer = scorer_factory(env)
    scorer.wait_for("mira_documents_accepted_total", 1)
    produce(kafka_broker.bootstrap, topics["docs"], docs[1000:])
    stream_triton.stop()  # usually with requests in flight: they fail and are retried
    t0 = time.monotonic()
    deadline = time.monotonic() + 20
    while scorer.status("/readyz") != 503:  # the probe or a failed request notices
        assert time.monotonic() < deadline, "scorer still ready with Triton down"
        time.sleep(0.1)
    assert scorer.status("/healthz") == 200
    time.sleep(max(0.0, 10 - (time.monotonic() - t0)))
    scorer.check_alive()
    stream_triton.start()
    out = _outputs(kafka_broker.bootstrap, topics, len(docs), committed=False)
    scorer.wait_ready(30)
    assert scorer.terminate() == 0
    assert set(out.id_counts()) == {k for k, _ in docs}, "documents lost across the outage"


def test_exactly_once_second_replica_joins_mid_run(
    kafka_broker: Any, stream_triton: TritonServer, stream_manifest: Path,
    topics: dict[str, str], scorer_factory: Any,
) -> None:
    """A cooperative rebalance moves partitions while documents flow: no loss, no duplicate."""
    import threading

    docs = make_docs(6000, SOURCES, bad_every=97)
    env = scorer_env(kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url,
                     "exactly-once")
    produce(kafka_broker.bootstrap, topics["docs"], docs[:2000])
    first = scorer_factory(env)
    first.wait_for("mira_commits_total", 1)
    feeder = threading.Thread(target=trickle, args=(kafka_broker.bootstrap, topics["docs"],
                                                    docs[2000:4000], 100, 0.3))
    feeder.start()  # documents keep flowing while the group rebalances
    second = scorer_factory({**env, "MIRA_SCORER_INSTANCE_ID": f"{topics['group']}-1",
                             "MIRA_SCORER_TRANSACTIONAL_ID": f"{topics['group']}-tx1"})
    second.wait_for("mira_assigned_partitions", 1)
    feeder.join()
    produce(kafka_broker.bootstrap, topics["docs"], docs[4000:])
    out = _outputs(kafka_broker.bootstrap, topics, len(docs))
    assert second.metric("mira_documents_in_total") > 0, "the second replica got no work"
    assert first.terminate() == 0 and second.terminate() == 0
    counts = out.id_counts()
    assert set(counts) == {k for k, _ in docs}, "documents lost"
    assert max(counts.values()) == 1, "duplicates across a rebalance in exactly-once mode"
