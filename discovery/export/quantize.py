"""Int8 dynamic quantization of an exported student for CPU, checked against its fp32 graph.

onnxruntime's ``quantize_dynamic`` stores the weights of every MatMul and fused Attention node as
int8 (per output channel) and quantizes activations on the fly; on CPU the int8 kernels
(MatMulInteger, QAttention) ran the MiniLM-L6 student 1.5-1.7x faster than fp32, with scores that
rank documents alike (Spearman ~0.994) but not identically (docs/benchmarks.md, "Int8 students on
CPU").  Quantizing the Attention nodes alone kept scores closer but gained nothing.  The GPU
flavour keeps fp32: CUDA has no kernels for these int8 operators.

The check compares the two graphs on real documents: max abs difference, Spearman correlation of
the scores, and accept/reject agreement when each graph's threshold keeps the same share (what
calibration does for the published model).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

Quantize = Literal["none", "int8"]


@dataclass(frozen=True, slots=True)
class QuantCheck:
    """How the int8 graph's scores compare with the fp32 graph's on the same documents."""

    docs: int
    max_abs_diff: float
    spearman: float
    agreement: float  # same decision, each graph thresholded at its own (1 - keep) quantile

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def quantize(src: Path, dst: Path, how: Quantize) -> None:
    """Write the int8 graph of ``src`` (an fp32, fused student) as ``dst``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if how == "none":
        raise ValueError("quantize: 'none' writes no int8 graph")
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        # the fused contrib operators have no shape inference: their outputs are float32
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def scores(path: Path, ids: np.ndarray, mask: np.ndarray, batch: int = 32) -> np.ndarray:
    """The graph's ``score`` output for every row, in batches."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess: Any = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out = [
        sess.run(
            ["score"], {"input_ids": ids[i : i + batch], "attention_mask": mask[i : i + batch]}
        )[0]
        for i in range(0, len(ids), batch)
    ]
    return np.concatenate(out).reshape(-1).astype(np.float64)


def compare(fp32: np.ndarray, int8: np.ndarray, keep: float) -> QuantCheck:
    """Score agreement of the two graphs on the same documents (``keep``: share accepted)."""
    from discovery.distill.data import spearman

    a = fp32 >= np.quantile(fp32, 1 - keep)
    b = int8 >= np.quantile(int8, 1 - keep)
    return QuantCheck(
        docs=len(fp32),
        max_abs_diff=float(np.abs(fp32 - int8).max()),
        spearman=spearman(fp32, int8),
        agreement=float(np.mean(a == b)),
    )


def choose(
    fp32: Path,
    ids: np.ndarray,
    mask: np.ndarray,
    how: Quantize,
    keep: float,
    min_spearman: float,
) -> tuple[Path, QuantCheck | None]:
    """The graph to publish: the int8 graph of ``fp32`` (written beside it) when its scores on
    (ids, mask) correlate with fp32's at ``min_spearman`` or more, else ``fp32`` itself."""
    if how == "none":
        return fp32, None
    if len(ids) < 3:
        log.warning("%s: %d documents cannot check an int8 graph: publishing fp32", fp32, len(ids))
        return fp32, None
    int8 = fp32.with_suffix(".int8.onnx")
    quantize(fp32, int8, how)
    check = compare(scores(fp32, ids, mask), scores(int8, ids, mask), keep)
    log.info("%s %s vs fp32: %s", fp32.name, how, check)
    if check.spearman < min_spearman:
        log.warning(
            "%s: %s scores correlate with fp32 at %.4f < %.4f: publishing fp32",
            fp32.name,
            how,
            check.spearman,
            min_spearman,
        )
        int8.unlink()
        return fp32, check
    return int8, check
