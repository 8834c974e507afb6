import json
from pathlib import Path

import pytest

from discovery.export.repository import (
    StagedModel,
    atomic_write,
    checksums,
    next_version,
    publish,
    stage_version,
    staging_dir,
)
from mira.repository import sha256_file
from mira.settings import ExportSettings
from tests.unit.engine.tiny_onnx import tiny_student


def stage_one(repo: Path, group: str = "code") -> StagedModel:
    stage = staging_dir(repo)
    version = next_version(repo, f"mira_{group}")
    onnx = tiny_student(stage / "tmp.onnx", [1.0, 2.0], [0.5, 0.5])
    folder = stage_version(stage, f"mira_{group}", version, onnx)
    return StagedModel(
        group,
        f"mira_{group}",
        version,
        2,
        folder,
        0.0,
        checksums(f"mira_{group}/{version}", folder),
    )


def test_layout_versions_and_checksums(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = stage_one(repo)
    assert first.staged.parent.parent.parent == tmp_path  # staged next to the repo, not in it
    publish(repo, [first], ExportSettings(), 64)
    v1 = repo / "mira_code" / "1"
    assert sorted(p.name for p in v1.iterdir()) == ["model.onnx", "model.py"]
    assert (repo / "mira_code" / "config.pbtxt").read_text().startswith('name: "mira_code"')
    assert first.files == {
        f"mira_code/1/{n}": sha256_file(v1 / n) for n in ("model.onnx", "model.py")
    }
    before = sha256_file(v1 / "model.onnx")
    second = stage_one(repo)
    assert second.version == 2
    publish(repo, [second], ExportSettings(flavour="onnxruntime"), 64)
    assert sha256_file(v1 / "model.onnx") == before  # old version untouched
    assert (repo / "mira_code" / "2" / "model.onnx").is_file()
    assert "onnxruntime_onnx" in (repo / "mira_code" / "config.pbtxt").read_text()


def test_an_existing_version_is_never_overwritten(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    staged = stage_one(repo)
    (repo / "mira_code" / "1").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        publish(repo, [staged], ExportSettings(), 64)


def test_next_version_ignores_non_numeric_entries(tmp_path: Path) -> None:
    assert next_version(tmp_path, "missing") == 1
    for name in ("1", "3", "tmp", "config.pbtxt"):
        (tmp_path / "m" / name).mkdir(parents=True)
    assert next_version(tmp_path, "m") == 4


def test_configs_keep_the_previous_version_and_warm_up(tmp_path: Path) -> None:
    from discovery.export.triton_config import parse_config

    repo = tmp_path / "repo"
    publish(repo, [stage_one(repo)], ExportSettings(keep_versions=3, max_batch_size=16), 48)
    cfg = parse_config((repo / "mira_code" / "config.pbtxt").read_text())
    assert cfg.version_policy.latest.num_versions == 3
    warm = {
        (w.batch_size, w.inputs["input_ids"].dims[0], w.inputs["attention_mask"].zero_data)
        for w in cfg.model_warmup
    }
    assert warm == {(1, 48, True), (16, 48, True)}
    publish(repo, [stage_one(repo)], ExportSettings(warmup=False), 48)
    assert not parse_config((repo / "mira_code" / "config.pbtxt").read_text()).model_warmup


def test_a_version_rolled_back_to_the_attic_is_never_reused(tmp_path: Path) -> None:
    """mira export / mira-rollback (deploy/k8s/base/repo_history.py) / mira export again."""
    from tests.unit.deploy.conftest import K8S, load_module

    history = load_module(K8S / "base" / "repo_history.py")
    repo = tmp_path / "repository"  # the model volume's layout: repository/ history/ attic/

    def export() -> int:
        history.snapshot(tmp_path)
        staged = stage_one(repo)
        publish(repo, [staged], ExportSettings(), 64)
        manifest = {"groups": {"code": {"model": staged.model, "version": staged.version}}}
        atomic_write(repo / "mira_manifest.json", json.dumps(manifest).encode())
        return staged.version

    assert [export(), export()] == [1, 2]
    history.rollback(tmp_path)
    assert not (repo / "mira_code" / "2").exists()  # moved to attic/<time>/mira_code/2
    assert export() == 3, "version 2 was served before: a new model must not take its number"
    history.rollback(tmp_path)  # back to version 1 again; versions 2 and 3 are in the attic
    for folder in (tmp_path / "attic").glob("*/mira_code"):
        for version in folder.iterdir():  # even with the folders gone, the manifests remember
            version.rename(tmp_path / f"gone-{folder.parent.name}-{version.name}")
    assert export() == 4


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write(target, b'{"a": 1}')
    atomic_write(target, b'{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_model_py_imports_only_what_triton_env_has() -> None:
    import ast

    from discovery.export.repository import MODEL_PY

    tree = ast.parse(MODEL_PY.read_text())
    names = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    names |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert names <= {"json", "numpy", "onnxruntime", "triton_python_backend_utils"}
