"""Shared setup of the streaming tests: one model repository, unique topics per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mira.services.triton import TritonServer
from tests.integration.streaming.harness import Scorer
from tests.integration.streaming.kafkautil import create_topics
from tests.integration.streaming.tiny_repo import build_tiny_repo

SOURCES = ["src_a", "src_b", "src_c", "src_d", "src_e"]
SOURCE_GROUPS = {"src_a": "code", "src_b": "code", "src_c": "prose", "src_d": "prose"}
THRESHOLDS = {"src_a": 2.5, "src_b": 2.2, "src_c": 2.8, "src_d": 2.6}


@pytest.fixture(scope="session")
def stream_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Manifest of the served repository (src_e is unseen: it takes the fallback group)."""
    return build_tiny_repo(tmp_path_factory.mktemp("repo"), SOURCE_GROUPS, THRESHOLDS)


def load_all(server: TritonServer, manifest: Path) -> TritonServer:
    from mira.contracts import RepositoryManifest

    m = RepositoryManifest.model_validate_json(manifest.read_text())
    for gm in m.groups.values():
        server.load_model(gm.model)
    return server


@pytest.fixture(scope="module")
def stream_triton(
    stream_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TritonServer]:
    """One real Triton for a test module (explicit model control, models loaded)."""
    server = TritonServer(stream_manifest.parent, tmp_path_factory.mktemp("triton"))
    try:
        server.start()
        yield load_all(server, stream_manifest)
    finally:
        server.stop()


@pytest.fixture
def topics(kafka_broker: Any) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    names = {k: f"t{run}.{k}" for k in ("docs", "accepted", "rejected", "dlq")}
    create_topics(kafka_broker.bootstrap, names.values(), partitions=3)
    names["group"] = f"g{run}"
    return names


CLIENTS = ["kafka-python", "confluent"]


@pytest.fixture(params=CLIENTS)
def kafka_client(request: pytest.FixtureRequest) -> str:
    """The scorer's Kafka client (``kafka.client``): tests that prove delivery semantics run
    with both; the rest use the default."""
    return str(request.param)


def scorer_env(
    bootstrap: str,
    topics: dict[str, str],
    manifest: Path,
    grpc_url: str,
    delivery: str = "at-least-once",
    client: str = "kafka-python",
) -> dict[str, str]:
    return {
        "MIRA_KAFKA_BOOTSTRAP": bootstrap,
        "MIRA_KAFKA_CLIENT": client,
        "MIRA_TOPICS_INPUT": topics["docs"],
        "MIRA_TOPICS_ACCEPTED": topics["accepted"],
        "MIRA_TOPICS_REJECTED": topics["rejected"],
        "MIRA_TOPICS_DLQ": topics["dlq"],
        "MIRA_SCORER_GROUP_ID": topics["group"],
        "MIRA_SCORER_MANIFEST": str(manifest),
        "MIRA_SCORER_DELIVERY": delivery,
        "MIRA_TRITON_GRPC_URL": grpc_url,
        "MIRA_SCORER_TRANSACTIONAL_ID": f"{topics['group']}-tx",
        "MIRA_SCORER_INSTANCE_ID": f"{topics['group']}-0",
        "MIRA_SCORER_SESSION_TIMEOUT_MS": "10000",
        "MIRA_SCORER_DRAIN_TIMEOUT_S": "10",
        "MIRA_SCORER_RELOAD_INTERVAL_S": "0.5",
    }


@pytest.fixture
def scorer_factory(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Scorer]]:
    made: list[Scorer] = []

    def make(env: dict[str, str]) -> Scorer:
        s = Scorer(env, tmp_path / f"scorer{len(made)}.log").start()
        made.append(s)
        return s

    yield make
    for s in made:
        if s.proc is not None and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(10)
