import asyncio
from pathlib import Path

import numpy as np
import pytest

from mira.engine.backend import BatchRejected, ModelRef, ScoringBackend
from mira.engine.ort import OrtBackend
from tests.unit.engine.tiny_onnx import expected, tiny_student

X = ModelRef("mira_x", 1)


def test_scores_match_the_graph_and_protocol(tmp_path: Path) -> None:
    path = tiny_student(tmp_path / "m.onnx", [1.0, 0.5, 2.0], [0.2, 0.3, 0.5])
    backend = OrtBackend({X: path}, threads=1)
    assert isinstance(backend, ScoringBackend)
    ids = np.ones((3, 5), dtype=np.int64)
    mask = np.array([[1] * 5, [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=np.int64)
    anchors, score = asyncio.run(backend.score(X, ids, mask))
    ref_a, ref_s = expected(mask, [1.0, 0.5, 2.0], [0.2, 0.3, 0.5])
    assert anchors.dtype == np.float32 and score.size == 3
    np.testing.assert_allclose(anchors, ref_a, rtol=1e-6)
    np.testing.assert_allclose(score.reshape(-1), ref_s.reshape(-1), rtol=1e-6)


def test_unknown_model_and_bad_input(tmp_path: Path) -> None:
    backend = OrtBackend({X: tiny_student(tmp_path / "m.onnx", [1.0], [1.0])}, threads=1)
    with pytest.raises(KeyError):
        asyncio.run(
            backend.score(
                ModelRef("mira_y", 1), np.ones((1, 2), np.int64), np.ones((1, 2), np.int64)
            )
        )
    with pytest.raises(BatchRejected):
        asyncio.run(backend.score(X, np.ones(2, np.int64), np.ones(2, np.int64)))


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"mira_x/1/model\.onnx"):
        OrtBackend.from_repository(tmp_path, [X], threads=1)
