"""10,000 documents through ``mira score`` in exactly-once mode: ids, routing, metrics, drain.

One scorer run is shared by the tests of this module (module-scoped fixture); they run in file
order and the last one stops it with SIGTERM.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mira.contracts import H_DECISION, H_ERROR, H_GROUP
from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import SOURCES, scorer_env
from tests.integration.streaming.harness import Scorer
from tests.integration.streaming.kafkautil import (
    Outputs,
    create_topics,
    make_docs,
    produce,
    read_all,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_DOCS = 10_000


@dataclass
class Run:
    docs: list[tuple[str, bytes]]
    topics: dict[str, str]
    out: Outputs
    scorer: Scorer
    seconds: float


@pytest.fixture(scope="module")
def eos_run(
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    run_id = uuid.uuid4().hex[:8]
    topics = {k: f"r{run_id}.{k}" for k in ("docs", "accepted", "rejected", "dlq")}
    topics["group"] = f"r{run_id}"
    create_topics(
        kafka_broker.bootstrap,
        [topics[k] for k in ("docs", "accepted", "rejected", "dlq")],
        partitions=3,
    )
    docs = make_docs(N_DOCS, SOURCES, bad_every=101)
    produce(kafka_broker.bootstrap, topics["docs"], docs)
    env = scorer_env(
        kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url, "exactly-once"
    )
    scorer = Scorer(env, tmp_path_factory.mktemp("eos") / "scorer.log").start()
    t0 = time.monotonic()
    try:
        out = read_all(
            kafka_broker.bootstrap,
            [topics[t] for t in ("accepted", "rejected", "dlq")],
            {k for k, _ in docs},
            timeout_s=180,
            read_committed=True,
        )
        yield Run(docs, topics, out, scorer, time.monotonic() - t0)
    finally:
        if scorer.proc is not None and scorer.proc.poll() is None:
            scorer.proc.kill()
            scorer.proc.wait(10)


def test_every_id_exactly_once(eos_run: Run) -> None:
    counts = eos_run.out.id_counts()
    assert set(counts) == {k for k, _ in eos_run.docs}, "documents lost"
    assert max(counts.values()) == 1, "duplicates under exactly-once"
    dead = eos_run.out.records[eos_run.topics["dlq"]]
    assert {r.key.decode() for r in dead} == {k for k, v in eos_run.docs if b"broken" in v}
    assert all(dict(r.headers)[H_ERROR] == b"invalid_json" for r in dead)


def test_routing_matches_in_process_filter(
    eos_run: Run, stream_manifest: Path, tmp_path: Path
) -> None:
    from tests.fixtures.flows import filter_verdicts

    verdicts = filter_verdicts(stream_manifest.parent, [v for _, v in eos_run.docs], tmp_path)
    expected = {k: (v.decision, v.score, v.threshold) for k, v in verdicts.items()}
    differ, near = [], 0
    for topic in ("accepted", "rejected"):
        for rec in eos_run.out.records[eos_run.topics[topic]]:
            key, body = rec.key.decode(), json.loads(rec.value)
            decision, score, threshold = expected.pop(key)
            headers = dict(rec.headers)
            assert headers[H_DECISION].decode() == body["mira"]["decision"]
            assert headers[H_GROUP].decode() == body["mira"]["group"]
            if body["mira"]["decision"] != decision:
                differ.append(key)
                near += abs(score - threshold) <= 1e-4
    assert not expected, f"{len(expected)} scored in-process but not by the stream"
    print(
        f"\nrouting: {len(differ)} decisions differ from the in-process filter "
        f"({near} within 1e-4 of their threshold)"
    )
    assert len(differ) == near, "decisions differ away from the threshold"


def test_prometheus_counters_match_topic_counts(eos_run: Run, prometheus_factory: Any) -> None:
    prom = prometheus_factory([f"127.0.0.1:{eos_run.scorer.port}"])
    want = {
        "mira_documents_accepted_total": len(eos_run.out.records[eos_run.topics["accepted"]]),
        "mira_documents_rejected_total": len(eos_run.out.records[eos_run.topics["rejected"]]),
        "mira_documents_dead_lettered_total": len(eos_run.out.records[eos_run.topics["dlq"]]),
        "mira_documents_in_total": N_DOCS,
    }
    deadline = time.monotonic() + 60
    got: dict[str, float | None] = {}
    while time.monotonic() < deadline:
        got = {name: prom.query(f"sum({name})") for name in want}
        if all(got[n] == float(v) for n, v in want.items()):
            break
        time.sleep(0.5)
    assert got == {n: float(v) for n, v in want.items()}


def test_sigterm_drains_and_exits_zero(eos_run: Run) -> None:
    assert eos_run.scorer.status("/readyz") == 200
    t0 = time.monotonic()
    assert eos_run.scorer.terminate(timeout_s=30) == 0
    assert time.monotonic() - t0 < 15  # drain bound 10 s + close
    print(f"\n{N_DOCS} docs end to end in {eos_run.seconds:.1f} s (scorer start included)")
