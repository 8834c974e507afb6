"""The model repository as mira reads it: manifest versions and model-file integrity."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY

from mira.cli import main
from mira.repository import ManifestError, load_manifest, verify_models
from tests.unit.engine.tiny_onnx import tiny_repo


def _failures() -> float:
    return REGISTRY.get_sample_value("mira_model_integrity_failures_total") or 0.0


def tamper(repo: Path) -> Path:
    path = repo / "mira_a" / "1" / "model.onnx"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def test_verified_repository_passes(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    manifest, digest = load_manifest(repo / "mira_manifest.json")
    verify_models(repo, manifest)
    assert len(digest) == 64


def test_a_tampered_model_is_refused_with_a_metric(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    manifest, _ = load_manifest(repo / "mira_manifest.json")
    path = tamper(repo)
    before = _failures()
    with pytest.raises(ManifestError, match=f"{path}: sha256 .* does not match"):
        verify_models(repo, manifest)
    assert _failures() == before + 1


def test_missing_files_and_unverifiable_models_are_refused(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    manifest, _ = load_manifest(repo / "mira_manifest.json")
    (repo / "mira_b" / "1" / "model.onnx").unlink()
    with pytest.raises(ManifestError, match="is missing"):
        verify_models(repo, manifest)
    bare = manifest.model_copy(
        update={
            "groups": {g: gm.model_copy(update={"files": {}}) for g, gm in manifest.groups.items()}
        }
    )
    with pytest.raises(ManifestError, match="lists no model files"):
        verify_models(repo, bare)


def test_filter_refuses_a_tampered_model_in_one_line(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path / "repo")
    tamper(repo)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "source": "s1", "text": "t"}) + "\n")
    res = CliRunner().invoke(
        main, ["filter", str(src), "--repo", str(repo), "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 1
    assert "does not match the manifest" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out" / "accepted.jsonl").exists()


def test_a_previous_manifest_version_is_read_and_upgraded(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    data: dict[str, Any] = json.loads((repo / "mira_manifest.json").read_text())
    for key in ("chars_per_token", "default_chars_per_token"):
        data.pop(key, None)
    (repo / "v1.json").write_text(json.dumps({**data, "schema_version": 1}))
    manifest, _ = load_manifest(repo / "v1.json")
    assert manifest.schema_version == 2 and manifest.chars_per_token == {}
    (repo / "v9.json").write_text(json.dumps({**data, "schema_version": 9}))
    with pytest.raises(ManifestError, match="schema_version 9 is not supported"):
        load_manifest(repo / "v9.json")


def test_a_reload_onto_a_tampered_model_is_refused_and_the_old_manifest_stays(
    tmp_path: Path,
) -> None:
    from mira.settings import MiraSettings, ScorerSettings
    from scorer.reload import Reloader

    repo = tiny_repo(tmp_path)
    manifest, digest = load_manifest(repo / "mira_manifest.json")
    switched: list[Any] = []
    settings = MiraSettings(scorer=ScorerSettings(manifest=repo / "mira_manifest.json"))
    reloader = Reloader(settings, None, lambda: manifest, digest, switched.append)  # type: ignore[arg-type]
    tamper(repo)
    with pytest.raises(ManifestError):
        asyncio.run(reloader.apply(manifest, "other"))
    assert switched == []


def test_score_refuses_to_start_on_a_tampered_model(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    tamper(repo)
    res = CliRunner().invoke(
        main,
        [
            "score",
            "--manifest",
            str(repo / "mira_manifest.json"),
            "--metrics-port",
            "0",
            "--bootstrap",
            "127.0.0.1:1",
        ],
    )
    assert res.exit_code == 2, res.output
    assert "does not match the manifest" in res.output and "Traceback" not in res.output
