"""Int8 export of a student: quantized graph, its check against fp32, the fp32 fallback."""

from pathlib import Path

import numpy as np
import pytest

from discovery.export.onnx import export_onnx
from discovery.export.quantize import choose, compare, quantize, scores
from tests.unit.distill.test_student import batch, tiny_student


def _inputs(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = rng.integers(4, 50, size=(n, 9)).astype(np.int64)
    ids[:, 0], ids[:, -1] = 2, 3
    mask = np.ones_like(ids)
    mask[: n // 2, 6:] = 0  # right padding on half the rows
    ids[mask == 0] = 0
    return ids, mask


@pytest.fixture(scope="module")
def fp32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("q") / "m.onnx"
    ids, mask = batch()
    export_onnx(tiny_student([0.25, 0.75]), path, ids.numpy(), mask.numpy())
    return path


def test_quantize_writes_int8_operators(fp32: Path, tmp_path: Path) -> None:
    import onnx

    out = tmp_path / "q.onnx"
    quantize(fp32, out, "int8")
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"MatMulInteger", "QAttention"} <= ops
    ids, mask = _inputs()
    got, ref = scores(out, ids, mask), scores(fp32, ids, mask)
    assert got.shape == ref.shape == (len(ids),)
    assert np.abs(got - ref).max() < 0.5 * np.ptp(ref) + 1e-3  # close, not equal


def test_compare_counts_decisions_at_each_graphs_own_threshold() -> None:
    a = np.array([0.0, 1.0, 2.0, 3.0])
    same = compare(a, a * 10 + 5, keep=0.5)  # a monotone transform: same ranks, same decisions
    assert same.spearman == pytest.approx(1.0) and same.agreement == 1.0
    assert same.max_abs_diff == pytest.approx(32.0)
    swapped = compare(a, np.array([0.0, 2.0, 1.0, 3.0]), keep=0.5)
    assert swapped.agreement == 0.5


def test_choose_publishes_int8_or_falls_back_to_fp32(fp32: Path, tmp_path: Path) -> None:
    import shutil

    ids, mask = _inputs()
    src = tmp_path / "m.onnx"
    shutil.copyfile(fp32, src)
    graph, check = choose(src, ids, mask, "int8", keep=0.5, min_spearman=0.0)
    assert graph == src.with_suffix(".int8.onnx") and graph.is_file()
    assert check is not None and check.docs == len(ids)
    graph, check = choose(src, ids, mask, "int8", keep=0.5, min_spearman=1.01)
    assert graph == src and check is not None
    assert not src.with_suffix(".int8.onnx").exists()  # the refused graph is not left behind
    assert choose(src, ids, mask, "none", 0.5, 0.99) == (src, None)
