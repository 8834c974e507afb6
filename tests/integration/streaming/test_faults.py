"""Fault tests against the real services: the scorer killed again and again, the broker killed
and restarted on its data, Triton killed and restarted, a replica joining and leaving, SIGTERM
with batches in flight.  Each one accounts for every input id, reading the outputs with
``read_committed`` only after every scorer process has exited, and prints what it counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mira.services.kafka import KafkaBroker
from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import SOURCES, load_all, scorer_env
from tests.integration.streaming.kafkautil import (
    Outputs,
    create_topics,
    make_docs,
    produce,
    read_all,
    trickle,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OUT = ("accepted", "rejected", "dlq")


def account(label: str, out: Outputs, docs: list[tuple[str, bytes]], exactly_once: bool) -> None:
    """Every id in exactly one output topic (exactly once, or at least once)."""
    counts = out.id_counts()
    ids = {k for k, _ in docs}
    lost = ids - set(counts)
    dup = {k: c for k, c in counts.items() if c > 1}
    topics_of: dict[str, set[str]] = {}
    for topic, recs in out.records.items():
        for r in recs:
            topics_of.setdefault(r.key.decode(), set()).add(topic)
    split = [k for k, t in topics_of.items() if len(t) > 1]
    bad = sum(1 for _, v in docs if b"broken" in v)
    print(
        f"\n{label}: {len(ids)} ids in, {sum(counts.values())} outputs, {len(lost)} lost, "
        f"{len(dup)} duplicated, {len(split)} in two topics, "
        f"{len(out.records.get(next(t for t in out.records if t.endswith('dlq')), []))} "
        f"dead-lettered ({bad} malformed sent)"
    )
    assert not lost, f"{len(lost)} ids lost, e.g. {sorted(lost)[:3]}"
    assert not split, f"ids in two output topics: {split[:3]}"
    if exactly_once:
        assert not dup, f"{len(dup)} duplicates under exactly-once, e.g. {list(dup)[:3]}"


def caught_up(scorer: Any, partitions: int = 3) -> bool:
    """Nothing pending, and a lag of 0 on every input partition, all assigned to ``scorer``
    (a revoked partition has no lag gauge: no gauge is not "no lag")."""
    lags = [value for _, value in scorer.samples("mira_consumer_lag")]
    return (
        scorer.metric("mira_pending_documents") == 0 and len(lags) == partitions and not any(lags)
    )


def wait_caught_up(scorer: Any, who: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not caught_up(scorer):
        assert time.monotonic() < deadline, f"{who} did not catch up"
        time.sleep(0.5)


def feeding(
    bootstrap: str, topic: str, docs: list[tuple[str, bytes]], chunk: int, pause_s: float
) -> threading.Thread:
    """A started thread that writes ``docs`` in chunks of ``chunk``, ``pause_s`` apart."""
    feeder = threading.Thread(target=trickle, args=(bootstrap, topic, docs, chunk, pause_s))
    feeder.start()
    return feeder


def outputs(
    bootstrap: str, topics: dict[str, str], docs: list[tuple[str, bytes]], timeout_s: float = 120
) -> Outputs:
    return read_all(
        bootstrap,
        [topics[t] for t in OUT],
        {k for k, _ in docs},
        timeout_s=timeout_s,
        read_committed=True,
    )


def test_exactly_once_survives_repeated_kill9(
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    kafka_client: str,
) -> None:
    docs = make_docs(6000, SOURCES, bad_every=97)
    env = scorer_env(
        kafka_broker.bootstrap,
        topics,
        stream_manifest,
        stream_triton.grpc_url,
        "exactly-once",
        kafka_client,
    )
    # documents keep arriving for ~20 s, across the kills
    feeder = feeding(kafka_broker.bootstrap, topics["docs"], docs, 100, 0.3)
    kills = 0
    while feeder.is_alive() and kills < 3:  # killed in the middle of its work, again and again
        scorer = scorer_factory(env)
        scorer.wait_for("mira_commits_total", 1, timeout_s=90)
        time.sleep(0.5 * kills)
        scorer.kill9()
        kills += 1
    feeder.join()
    last = scorer_factory(env)
    outputs(kafka_broker.bootstrap, topics, docs, timeout_s=180)  # wait until all are out
    assert last.terminate() == 0
    account(
        f"kill -9 x{kills}, exactly-once, {kafka_client}",
        outputs(kafka_broker.bootstrap, topics, docs),
        docs,
        True,
    )
    assert kills == 3


def broker_outage(
    where: tuple[KafkaBroker, TritonServer, Path, Any],
    how: tuple[str, str, float],
    **env: str,
) -> None:
    """A scorer (``how``: delivery, client, seconds the broker stays down; ``env`` over the
    usual settings) on topics of its own: the first half of 3,000 documents trickles in (~7 s, so
    it commits more than once however fast it is), the broker is SIGKILLed, stays down, restarts
    on its data, the second half follows; every input is accounted for."""
    broker, triton, manifest, factory = where
    delivery, client, down_s = how
    name = f"b-{delivery}-{client}-{down_s:.0f}"
    topics = {k: f"{name}.{k}" for k in ("docs", *OUT)} | {"group": name}
    create_topics(broker.bootstrap, [topics[k] for k in ("docs", *OUT)], partitions=3)
    base = scorer_env(broker.bootstrap, topics, manifest, triton.grpc_url, delivery, client)
    scorer = factory(base | env)
    docs = make_docs(3000, SOURCES, bad_every=89)
    feeder = feeding(broker.bootstrap, topics["docs"], docs[:1500], 100, 0.5)
    scorer.wait_for("mira_commits_total", 2, timeout_s=90)
    feeder.join()
    broker.kill()  # mid-run; the scorer must wait, not exit
    time.sleep(down_s)
    scorer.check_alive()
    broker.start()  # same ports, same data directory
    produce(broker.bootstrap, topics["docs"], docs[1500:])
    out = outputs(broker.bootstrap, topics, docs, timeout_s=180)
    scorer.check_alive()
    assert scorer.terminate() == 0
    out = outputs(broker.bootstrap, topics, docs, timeout_s=30)  # again, after the scorer exited
    account(f"broker down {down_s:.0f} s, {delivery}, {client}", out, docs, "exactly" in delivery)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(tmp_path / "kafka")
    try:
        yield broker.start()
    finally:
        broker.stop()


@pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
def test_broker_killed_and_restarted_on_its_data(
    delivery: str,
    own_broker: KafkaBroker,
    stream_triton: TritonServer,
    stream_manifest: Path,
    scorer_factory: Any,
    kafka_client: str,
) -> None:
    # a restart on this data took 4-14 s: the group session and the open transaction outlive it
    # (an outage past session_timeout_ms is test_session_outage.py's case)
    broker_outage(
        (own_broker, stream_triton, stream_manifest, scorer_factory),
        (delivery, kafka_client, 5.0),
        MIRA_SCORER_SESSION_TIMEOUT_MS="45000",
        MIRA_SCORER_TRANSACTION_TIMEOUT_MS="60000",
    )


def test_triton_killed_and_restarted_mid_run(
    kafka_broker: Any,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    triton_factory: Any,
) -> None:
    triton = load_all(triton_factory(stream_manifest.parent), stream_manifest)
    docs = make_docs(3000, SOURCES, bad_every=101)
    produce(kafka_broker.bootstrap, topics["docs"], docs[:1500])
    scorer = scorer_factory(
        scorer_env(kafka_broker.bootstrap, topics, stream_manifest, triton.grpc_url, "exactly-once")
    )
    scorer.wait_for("mira_documents_accepted_total", 1, timeout_s=90)
    produce(kafka_broker.bootstrap, topics["docs"], docs[1500:])
    triton.kill()  # SIGKILL, with requests in flight
    deadline = time.monotonic() + 20
    while scorer.status("/readyz") != 503:
        assert time.monotonic() < deadline, "scorer still ready with Triton dead"
        time.sleep(0.1)
    time.sleep(3)
    scorer.check_alive()
    load_all(triton.start(), stream_manifest)
    scorer.wait_ready(60)
    wait_caught_up(scorer, "the scorer (after Triton came back)")
    assert scorer.terminate() == 0
    out = outputs(kafka_broker.bootstrap, topics, docs)
    dead = {dict(r.headers)["mira-error"] for r in out.records[topics["dlq"]]}
    assert dead <= {b"invalid_json"}, f"Triton's outage dead-lettered documents: {dead}"
    account("Triton kill -9 + restart, exactly-once", out, docs, True)


def test_a_replica_joins_and_leaves_mid_run(
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    kafka_client: str,
) -> None:
    docs = make_docs(6000, SOURCES, bad_every=97)
    env = scorer_env(
        kafka_broker.bootstrap,
        topics,
        stream_manifest,
        stream_triton.grpc_url,
        "exactly-once",
        kafka_client,
    )
    feeder = feeding(kafka_broker.bootstrap, topics["docs"], docs, 200, 0.2)
    first = scorer_factory(env)
    first.wait_for("mira_commits_total", 1, timeout_s=90)
    second = scorer_factory(
        {
            **env,
            "MIRA_SCORER_INSTANCE_ID": f"{topics['group']}-1",
            "MIRA_SCORER_TRANSACTIONAL_ID": f"{topics['group']}-tx1",
        }
    )
    second.wait_for("mira_documents_in_total", 1, timeout_s=90)
    assert second.terminate() == 0  # leaves while documents still flow
    feeder.join()
    wait_caught_up(first, "the remaining scorer")
    assert first.terminate() == 0
    account(
        f"replica joins and leaves, exactly-once, {kafka_client}",
        outputs(kafka_broker.bootstrap, topics, docs),
        docs,
        True,
    )


def test_sigterm_with_batches_in_flight(
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
) -> None:
    docs = make_docs(5000, SOURCES, bad_every=97)
    env = scorer_env(
        kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url, "exactly-once"
    )
    feeder = feeding(kafka_broker.bootstrap, topics["docs"], docs, 250, 0.1)
    first = scorer_factory(env)
    first.wait_for("mira_documents_in_total", 1500, timeout_s=90)
    in_flight = first.metric("mira_pending_documents")
    t0 = time.monotonic()
    assert first.terminate(timeout_s=30) == 0  # drains within drain_timeout_s (10 s) + close
    drained = time.monotonic() - t0
    assert drained < 15
    feeder.join()
    second = scorer_factory(env)
    second.wait_for("mira_documents_in_total", 1, timeout_s=90)
    wait_caught_up(second, "the second scorer")
    assert second.terminate() == 0
    print(f"\nSIGTERM with {in_flight:.0f} documents pending: exit 0 after {drained:.1f} s")
    account(
        "SIGTERM mid-run, exactly-once", outputs(kafka_broker.bootstrap, topics, docs), docs, True
    )
