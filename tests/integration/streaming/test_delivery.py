"""At-least-once delivery of ``mira score`` across a kill -9 (the exactly-once faults are in
test_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import SOURCES, scorer_env
from tests.integration.streaming.kafkautil import make_docs, produce, read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUT = ("accepted", "rejected", "dlq")


def _outputs(bootstrap: str, topics: dict[str, str], n: int, committed: bool = True) -> Any:
    ids = {f"d{i:06d}" for i in range(n)}
    return read_all(
        bootstrap, [topics[t] for t in OUT], ids, timeout_s=120, read_committed=committed
    )


def test_at_least_once_kill9_restart_nothing_lost(
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    kafka_client: str,
) -> None:
    docs = make_docs(10_000, SOURCES, bad_every=97)
    env = scorer_env(
        kafka_broker.bootstrap, topics, stream_manifest, stream_triton.grpc_url, client=kafka_client
    )
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
