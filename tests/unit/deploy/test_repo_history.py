"""deploy/k8s/base/repo_history.py (run by the mira-export and mira-rollback Jobs): snapshots
before an export, and a rollback that restores configs, tokenizer and manifest and moves the
rolled-back versions out of Triton's sight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.deploy.conftest import K8S, load_module

TOOL = load_module(K8S / "base" / "repo_history.py")


def _export(repo: Path, version: int, anchors: int) -> None:
    """What `mira export` leaves behind: a new version folder, config, tokenizer, manifest."""
    model = repo / "mira_code"
    (model / str(version)).mkdir(parents=True)
    (model / str(version) / "model.onnx").write_bytes(b"onnx-%d" % version)
    (model / "config.pbtxt").write_text(f"dims: [ {anchors} ]\n")
    (repo / "mira_tokenizer.json").write_text(f"tokenizer {version}")
    manifest = {"groups": {"code": {"model": "mira_code", "version": version}}}
    (repo / "mira_manifest.json").write_text(json.dumps(manifest))


def test_snapshot_without_repository_is_a_no_op(tmp_path: Path) -> None:
    assert TOOL.snapshot(tmp_path) is None
    assert not (tmp_path / "history").exists()


def test_export_then_rollback_restores_the_previous_version(tmp_path: Path) -> None:
    repo = tmp_path / "repository"
    _export(repo, 1, anchors=4)
    assert TOOL.main(["snapshot", "--volume", str(tmp_path)]) == 0
    _export(repo, 2, anchors=6)

    assert TOOL.main(["rollback", "--volume", str(tmp_path)]) == 0
    manifest = json.loads((repo / "mira_manifest.json").read_text())
    assert manifest["groups"]["code"]["version"] == 1
    assert (repo / "mira_code" / "config.pbtxt").read_text() == "dims: [ 4 ]\n"
    assert (repo / "mira_tokenizer.json").read_text() == "tokenizer 1"
    assert sorted(p.name for p in (repo / "mira_code").iterdir()) == ["1", "config.pbtxt"]
    attic = next((tmp_path / "attic").iterdir())
    assert (attic / "mira_code" / "2" / "model.onnx").read_bytes() == b"onnx-2"
    assert (
        json.loads((attic / "rolled-back-mira_manifest.json").read_text())["groups"]["code"][
            "version"
        ]
        == 2
    )
    assert not any((tmp_path / "history").iterdir()), "a used snapshot leaves history"


def test_rollback_steps_back_one_export_at_a_time(tmp_path: Path) -> None:
    repo = tmp_path / "repository"
    for version in (1, 2, 3):
        TOOL.snapshot(tmp_path)
        _export(repo, version, anchors=4)
    TOOL.rollback(tmp_path)
    TOOL.rollback(tmp_path)
    assert json.loads((repo / "mira_manifest.json").read_text())["groups"]["code"]["version"] == 1
    assert sorted(p.name for p in (repo / "mira_code").iterdir()) == ["1", "config.pbtxt"]


def test_a_failed_export_leaves_an_identical_snapshot_that_rollback_skips(tmp_path: Path) -> None:
    repo = tmp_path / "repository"
    _export(repo, 1, anchors=4)
    TOOL.snapshot(tmp_path)
    _export(repo, 2, anchors=4)
    TOOL.snapshot(tmp_path)  # the next export failed before writing anything
    TOOL.rollback(tmp_path)
    assert json.loads((repo / "mira_manifest.json").read_text())["groups"]["code"]["version"] == 1


def test_rollback_without_history_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _export(tmp_path / "repository", 1, anchors=4)
    assert TOOL.main(["rollback", "--volume", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no snapshot" in err
