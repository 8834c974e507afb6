"""One reader for everyone: a corpus written by the corpus writer as JSONL and as Parquet reads
back whole through every consumer: ``mira corpus stats``, ``mira filter``, ``mira produce`` (a
real broker) and ``mira discover`` (its corpus loader, then the groups stage)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mira.cli import main
from mira.contracts import Document
from mira.corpus.writer import write_documents
from tests.unit.engine.tiny_onnx import tiny_repo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs(small_corpus: Path) -> list[Document]:
    lines = small_corpus.read_text("utf-8").splitlines()
    return [Document.model_validate_json(x) for x in lines if x.strip()][:120]


@pytest.fixture(params=["jsonl", "parquet"])
def corpus(request: pytest.FixtureRequest, docs: list[Document], tmp_path: Path) -> Path:
    path = tmp_path / f"corpus.{request.param}"
    assert write_documents(docs, path) == len(docs)
    return path


def _mira(args: list[str]) -> Any:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def test_stats_reads_every_document(corpus: Path, docs: list[Document]) -> None:
    data = json.loads(_mira(["corpus", "stats", str(corpus), "--json", "--strict"]).stdout)
    assert data["total"]["docs"] == len(docs) and data["malformed"] == []


def test_filter_scores_every_document(corpus: Path, docs: list[Document], tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path / "repo")
    _mira(["filter", str(corpus), "--repo", str(repo), "--out", str(tmp_path / "out")])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["in"] == len(docs) and summary["dead_letter"] == 0
    kept = {
        json.loads(x)["id"]: json.loads(x)["meta"]
        for name in ("accepted", "rejected")
        for x in (tmp_path / "out" / f"{name}.jsonl").read_text().splitlines()
    }
    assert kept == {d.id: d.meta for d in docs}  # meta survives Parquet's JSON-string column


def test_produce_sends_every_document(
    corpus: Path, docs: list[Document], kafka_broker: Any
) -> None:
    from tests.integration.streaming.kafkautil import read_all

    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    res = _mira(
        [
            "produce",
            str(corpus),
            "--topic",
            topic,
            "--create-topic",
            "--bootstrap",
            kafka_broker.bootstrap,
            "--json",
        ]
    )
    assert json.loads(res.stdout.splitlines()[-1])["sent"] == len(docs)
    out = read_all(kafka_broker.bootstrap, [topic], {d.id for d in docs}, timeout_s=60)
    got = {r.key.decode(): Document.model_validate_json(r.value) for r in out.records[topic]}
    assert got == {d.id: d for d in docs}


def test_discover_reads_every_document_and_groups_them(
    corpus: Path, docs: list[Document], tmp_path: Path
) -> None:
    from discovery.corpus import load_corpus
    from mira.settings import DocumentSettings

    loaded = load_corpus([corpus], DocumentSettings())
    assert not loaded.refused
    assert sorted(d.id for ds in loaded.by_source.values() for d in ds) == sorted(
        d.id for d in docs
    )
    _mira(
        [
            "discover",
            "groups",
            "--corpus",
            str(corpus),
            "--run",
            str(tmp_path / "run"),
            "--k",
            "2",
            "--samples-per-source",
            "2",
        ]
    )
    grouping = json.loads((tmp_path / "run" / "grouping.json").read_text())
    assert {s for g in grouping["groups"] for s in g["sources"]} == {d.source for d in docs}
    report = json.loads((tmp_path / "run" / "discover.json").read_text())
    assert report["corpus"]["docs"] == len(docs) and report["corpus"]["refused"] == {}
