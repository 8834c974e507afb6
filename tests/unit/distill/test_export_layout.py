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
    version = next_version(repo / f"mira_{group}")
    onnx = tiny_student(stage / "tmp.onnx", [1.0, 2.0], [0.5, 0.5])
    folder = stage_version(stage, f"mira_{group}", version, onnx)
    return StagedModel(group, f"mira_{group}", version, 2, folder, 0.0,
                       checksums(f"mira_{group}/{version}", folder))


def test_layout_versions_and_checksums(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = stage_one(repo)
    assert first.staged.parent.parent.parent == tmp_path  # staged next to the repo, not in it
    publish(repo, [first], ExportSettings())
    v1 = repo / "mira_code" / "1"
    assert sorted(p.name for p in v1.iterdir()) == ["model.onnx", "model.py"]
    assert (repo / "mira_code" / "config.pbtxt").read_text().startswith('name: "mira_code"')
    assert first.files == {f"mira_code/1/{n}": sha256_file(v1 / n)
                           for n in ("model.onnx", "model.py")}
    before = sha256_file(v1 / "model.onnx")
    second = stage_one(repo)
    assert second.version == 2
    publish(repo, [second], ExportSettings(flavour="onnxruntime"))
    assert sha256_file(v1 / "model.onnx") == before  # old version untouched
    assert (repo / "mira_code" / "2" / "model.onnx").is_file()
    assert "onnxruntime_onnx" in (repo / "mira_code" / "config.pbtxt").read_text()


def test_an_existing_version_is_never_overwritten(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    staged = stage_one(repo)
    (repo / "mira_code" / "1").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        publish(repo, [staged], ExportSettings())


def test_next_version_ignores_non_numeric_entries(tmp_path: Path) -> None:
    assert next_version(tmp_path / "missing") == 1
    for name in ("1", "3", "tmp", "config.pbtxt"):
        (tmp_path / name).mkdir()
    assert next_version(tmp_path) == 4


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
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"json", "numpy", "onnxruntime", "triton_python_backend_utils"}
