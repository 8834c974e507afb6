from pathlib import Path

import numpy as np
import pytest

from scorer.backend import BackendError, ScoringBackend
from scorer.ort_backend import OrtBackend
from tests.unit.scorer.tiny_onnx import expected, tiny_student


def test_scores_match_the_graph_and_protocol(tmp_path: Path) -> None:
    path = tiny_student(tmp_path / "m.onnx", [1.0, 0.5, 2.0], [0.2, 0.3, 0.5])
    backend = OrtBackend({"mira_x": path}, threads=1)
    assert isinstance(backend, ScoringBackend)
    ids = np.ones((3, 5), dtype=np.int64)
    mask = np.array([[1] * 5, [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=np.int64)
    anchors, score = backend.score("mira_x", ids, mask)
    ref_a, ref_s = expected(mask, [1.0, 0.5, 2.0], [0.2, 0.3, 0.5])
    assert anchors.dtype == np.float32 and score.shape == (3,)
    np.testing.assert_allclose(anchors, ref_a, rtol=1e-6)
    np.testing.assert_allclose(score, ref_s.reshape(-1), rtol=1e-6)


def test_unknown_model_and_bad_input_raise_backend_error(tmp_path: Path) -> None:
    backend = OrtBackend({"mira_x": tiny_student(tmp_path / "m.onnx", [1.0], [1.0])})
    with pytest.raises(BackendError):
        backend.score("mira_y", np.ones((1, 2), np.int64), np.ones((1, 2), np.int64))
    with pytest.raises(BackendError):
        backend.score("mira_x", np.ones(2, np.int64), np.ones(2, np.int64))
