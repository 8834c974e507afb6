"""Distil the REAL teacher labels, export, serve on a REAL Triton, filter the corpus."""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from discovery.export.calibrate import Calibration
from mira.contracts import Document, RepositoryManifest, StudentCard
from mira.engine.backend import ModelRef
from mira.engine.build import model_refs
from mira.engine.ort import OrtBackend
from mira.engine.tokenize import BatchTokenizer, pre_cut
from mira.repository import sha256_file
from tests.fixtures.flows import distill, export, filter_repo

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BUDGET = 0.5


@dataclass
class Exported:
    run: Path
    repo: Path
    manifest: RepositoryManifest
    cal: Calibration
    cards: list[StudentCard]


@pytest.fixture(scope="module")
def exported(
    teacher_run: Path, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> Exported:
    run = tmp_path_factory.mktemp("distill") / "run"
    shutil.copytree(teacher_run, run, ignore=shutil.ignore_patterns("students", "cache.sqlite"))
    assert list((run / "annotations").glob("*.jsonl")), f"{teacher_run} has no annotations"
    groups = distill(run, max_epochs=15, patience=4)
    cards = [
        StudentCard.model_validate_json((run / "students" / g / "student.json").read_text())
        for g in groups
    ]
    repo = run / "repo"
    manifest, cal = export(run, small_corpus, repo, budget=BUDGET, calibration_docs=100_000)
    return Exported(run, repo, manifest, cal, cards)


def corpus_docs(path: Path, n: int | None = None) -> list[Document]:
    lines = path.read_text("utf-8").splitlines()
    return [Document.model_validate_json(x) for x in lines[:n] if x.strip()]


def test_students_are_trained_on_teacher_labels_and_report_metrics(exported: Exported) -> None:
    for card in exported.cards:
        labels = exported.run / "annotations" / f"{card.group}.jsonl"
        first = json.loads(labels.read_text("utf-8").splitlines()[0])
        assert card.teacher == first["teacher"] and card.n_train > 0 and card.n_heldout > 0
        metrics = json.loads((exported.run / "students" / card.group / "metrics.json").read_text())
        assert set(metrics["anchors"]) == set(card.anchors)
        for m in metrics["anchors"].values():
            assert {"spearman", "mae", "baseline_mae", "weight"} <= set(m)
        assert sum(card.weights) == pytest.approx(1.0)


def test_manifest_checksums_and_layout(exported: Exported) -> None:
    m = exported.manifest
    assert m == RepositoryManifest.model_validate_json(
        (exported.repo / "mira_manifest.json").read_text()
    )
    assert (exported.repo / m.tokenizer).is_file()
    for gm in m.groups.values():
        assert (exported.repo / gm.model / "config.pbtxt").is_file()
        assert set(gm.files) == {
            f"{gm.model}/{gm.version}/model.onnx",
            f"{gm.model}/{gm.version}/model.py",
        }
        for rel, digest in gm.files.items():
            assert sha256_file(exported.repo / rel) == digest
    parity = json.loads((exported.run / "export" / "export.json").read_text())["models"]
    assert all(v["parity_max_abs_diff"] <= 1e-4 for v in parity.values())


def test_kept_token_share_meets_budget_on_calibration_corpus(
    exported: Exported, small_corpus: Path, tmp_path: Path
) -> None:
    assert abs(exported.cal.retention.kept_share - BUDGET) <= 0.02
    summary = filter_repo(exported.repo, [small_corpus], tmp_path / "out")
    d = summary.as_dict()
    assert d["dead_letter"] == 0
    assert abs(d["kept_token_share"] - BUDGET) <= 0.02


def test_filter_dead_letters_every_malformed_line(
    exported: Exported, small_corpus: Path, tmp_path: Path
) -> None:
    good = small_corpus.read_bytes().splitlines()[:20]
    bad = [
        b"{not json",
        b"\xff\xfe\xfd",
        b'{"id": "x", "source": "s"}',
        b"[1]",
        b'{"id": "", "source": "s", "text": "t"}',
        b'{"id": 5, "source": "s", "text": "t"}',
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"\n".join(good[:10] + bad + good[10:]) + b"\n")
    out = tmp_path / "out"
    summary = filter_repo(exported.repo, [mixed], out, 8)
    counts = {
        k: len((out / f"{k}.jsonl").read_bytes().splitlines())
        for k in ("accepted", "rejected", "dead_letter")
    }
    assert summary.count["in"] == 26 == sum(counts.values())
    assert counts["dead_letter"] == 6
    dead = [json.loads(x) for x in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert [d["origin"] for d in dead] == [f"{mixed}:{i}" for i in range(11, 17)]
    assert [d["error"] for d in dead] == [
        "invalid_json",
        "bad_utf8",
        "missing_field",
        "not_an_object",
        "invalid_id",
        "invalid_id",
    ]


def test_triton_serves_the_repository_with_ort_scores(
    exported: Exported, small_corpus: Path, triton_factory
) -> None:  # type: ignore[no-untyped-def]
    import tritonclient.grpc as grpcclient

    m = exported.manifest
    server = triton_factory(exported.repo)
    tok = BatchTokenizer.from_manifest(exported.repo, m)
    ort = OrtBackend.from_repository(exported.repo, model_refs(m), threads=None)
    client = grpcclient.InferenceServerClient(server.grpc_url)
    docs = corpus_docs(small_corpus, 24)
    texts = [
        pre_cut(d.text, m.chars_per_token_of(d.source), m.max_length, m.max_chars, 1.3)
        for d in docs
    ]
    for gm in m.groups.values():
        server.load_model(gm.model)
        ids, mask = tok.encode(texts)
        inputs = [
            grpcclient.InferInput("input_ids", list(ids.shape), "INT64"),
            grpcclient.InferInput("attention_mask", list(mask.shape), "INT64"),
        ]
        inputs[0].set_data_from_numpy(ids)
        inputs[1].set_data_from_numpy(mask)
        res = client.infer(
            gm.model,
            inputs,
            outputs=[
                grpcclient.InferRequestedOutput("anchors"),
                grpcclient.InferRequestedOutput("score"),
            ],
        )
        anchors, score = asyncio.run(ort.score(ModelRef(gm.model, gm.version), ids, mask))
        assert res.as_numpy("anchors").shape == (len(docs), len(gm.anchors))
        np.testing.assert_allclose(res.as_numpy("anchors"), anchors, atol=1e-4, rtol=0)
        np.testing.assert_allclose(
            res.as_numpy("score").reshape(-1), score.reshape(-1), atol=1e-4, rtol=0
        )


def test_reexport_adds_a_version_and_keeps_the_old_one(
    exported: Exported, small_corpus: Path
) -> None:
    old = {rel: d for gm in exported.manifest.groups.values() for rel, d in gm.files.items()}
    manifest, _ = export(
        exported.run, small_corpus, exported.repo, budget=BUDGET, calibration_docs=50
    )
    for group, gm in manifest.groups.items():
        assert gm.version == exported.manifest.groups[group].version + 1
    for rel, digest in old.items():
        assert sha256_file(exported.repo / rel) == digest


def test_int8_export_publishes_the_int8_graph_and_its_check(
    exported: Exported, small_corpus: Path, tmp_path: Path
) -> None:
    import onnx

    repo = tmp_path / "repo8"
    manifest, _ = export(
        exported.run,
        small_corpus,
        repo,
        budget=BUDGET,
        calibration_docs=64,
        quantize="int8",
        quantize_min_spearman=0.0,  # publish whatever the check says: it is what is asserted
    )
    report = json.loads((exported.run / "export" / "export.json").read_text())
    for gm in manifest.groups.values():
        ops = {n.op_type for n in onnx.load(str(repo / gm.model / "1" / "model.onnx")).graph.node}
        assert "MatMulInteger" in ops
        model = report["models"][gm.model]
        assert model["quantized"] == "int8"
        check = model["int8_vs_fp32"]
        assert check["docs"] >= 3 and 0.0 <= check["agreement"] <= 1.0
        assert -1.0 <= check["spearman"] <= 1.0 and check["max_abs_diff"] >= 0.0
