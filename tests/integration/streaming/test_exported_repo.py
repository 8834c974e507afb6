"""``mira score`` on a repository made by the REAL exporter from the REAL teacher's labels.

The students are MiniLM-L6 encoders on CPU here, so this module streams 300 documents of the small
corpus (plus malformed ones) rather than 10,000: decisions must equal the in-process ``mira filter``
pipeline except for scores within 1e-4 of their threshold.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.streaming.conftest import load_all, scorer_env
from tests.integration.streaming.kafkautil import create_topics, produce, read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_DOCS = 300  # MiniLM students on CPU: ~15 docs/s through Triton here


@pytest.fixture(scope="session")
def exported_manifest(
    teacher_run: Path, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Distil (briefly) the teacher run's labels and export a python-flavour repository."""
    from tests.fixtures.flows import distill, export

    run = tmp_path_factory.mktemp("stream-export") / "run"
    shutil.copytree(teacher_run, run, ignore=shutil.ignore_patterns("students", "cache.sqlite"))
    distill(run, max_epochs=2, patience=1)
    repo = run / "repo"
    export(run, small_corpus, repo, budget=0.5, calibration_docs=2_000)
    return repo / "mira_manifest.json"


def test_stream_matches_filter_on_exported_students(
    kafka_broker: Any,
    triton_factory: Any,
    exported_manifest: Path,
    small_corpus: Path,
    scorer_factory: Any,
    tmp_path: Path,
) -> None:
    from tests.fixtures.flows import filter_verdicts

    run = uuid.uuid4().hex[:8]
    topics = {k: f"x{run}.{k}" for k in ("docs", "accepted", "rejected", "dlq")}
    create_topics(kafka_broker.bootstrap, topics.values(), partitions=3)
    topics["group"] = f"x{run}"
    lines = [x for x in small_corpus.read_bytes().splitlines() if x.strip()][:N_DOCS]
    records = [(json.loads(x)["id"], x) for x in lines]
    records += [(f"bad{i}", b"{broken " + str(i).encode()) for i in range(10)]
    produce(kafka_broker.bootstrap, topics["docs"], records)

    triton = load_all(triton_factory(exported_manifest.parent), exported_manifest)
    scorer = scorer_factory(
        scorer_env(
            kafka_broker.bootstrap, topics, exported_manifest, triton.grpc_url, "exactly-once"
        )
    )
    out = read_all(
        kafka_broker.bootstrap,
        [topics[t] for t in ("accepted", "rejected", "dlq")],
        {k for k, _ in records},
        timeout_s=300,
    )
    assert scorer.terminate() == 0
    counts = out.id_counts()
    assert set(counts) == {k for k, _ in records} and max(counts.values()) == 1

    expected = filter_verdicts(exported_manifest.parent, [v for _, v in records], tmp_path)
    differ = near = 0
    for topic in ("accepted", "rejected"):
        for rec in out.records[topics[topic]]:
            got = json.loads(rec.value)["mira"]
            want = expected.pop(rec.key.decode())
            assert got["model"] == want.model and got["model_version"] == want.model_version
            assert abs(got["score"] - want.score) <= 1e-3
            if got["decision"] != want.decision:
                differ += 1
                near += abs(want.score - want.threshold) <= 1e-4
    assert not expected
    print(
        f"\nexported students: {differ} decisions differ from mira filter, {near} of them "
        "within 1e-4 of the threshold"
    )
    assert differ == near
