"""Export a student to ONNX (dynamic batch and sequence axes) and measure parity with torch.

SERVICES.md: ``torch.onnx.export(..., dynamo=False, opset_version=18)`` through a wrapper taking
keyword arguments works (dynamo=True produced an invalid graph).

The encoder is traced with eager attention (matmul, softmax, matmul: the pattern onnxruntime's
transformer optimizer recognises; scaled-dot-product attention traces into one it does not) and
the graph is then fused (Attention, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization):
1.4-1.9x faster on CPU than the unfused graph here, same outputs to ~1e-7 (bench/student_ort.py).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

OPSET = 18
PARITY_TOL = 1e-4


class ParityError(AssertionError):
    """The exported graph disagrees with torch beyond the tolerance."""


def export_onnx(model: Any, path: Path, sample_ids: np.ndarray, sample_mask: np.ndarray) -> None:
    """Write ``model`` (a Student in eval mode) as ``path`` with inputs input_ids/attention_mask
    ([batch, seq] int64) and outputs anchors [batch, K], score [batch, 1] (float32), fused."""
    trace_onnx(model, path, sample_ids, sample_mask, attention="eager")
    bert: Any = getattr(model, "bert", None)
    if bert is not None:
        fuse(path, int(bert.config.num_attention_heads), int(bert.config.hidden_size))


def trace_onnx(
    model: Any, path: Path, sample_ids: np.ndarray, sample_mask: np.ndarray, attention: str | None
) -> None:
    """The traced graph only (``attention``: the encoder's attention implementation while
    tracing, restored afterwards; None keeps the model's own)."""
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask)

    wrapper = _Wrapper(model.eval()).eval()
    args = (torch.from_numpy(sample_ids), torch.from_numpy(sample_mask))
    bert: Any = getattr(model, "bert", None)
    before = getattr(getattr(bert, "config", None), "_attn_implementation", None)
    switch = attention is not None and before not in (None, attention)
    if switch:
        bert.set_attn_implementation(attention)
    # Tracer warnings name shape checks that are constant for BERT inputs (seq >= 2, no cache).
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                dynamo=False,
                opset_version=OPSET,
                input_names=["input_ids", "attention_mask"],
                output_names=["anchors", "score"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "seq"},
                    "attention_mask": {0: "batch", 1: "seq"},
                    "anchors": {0: "batch"},
                    "score": {0: "batch"},
                },
            )
    finally:
        if switch:
            bert.set_attn_implementation(before)


def fuse(path: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Rewrite ``path`` with onnxruntime's BERT fusions (portable graph: no other rewriting)."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(path), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
    )
    fused = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
    optimized.save_model_to_file(str(path))
    log.info("fused %s: %s", path.name, fused or "nothing (unexpected graph)")
    return fused


def parity(
    model: Any, path: Path, ids: np.ndarray, mask: np.ndarray, tol: float = PARITY_TOL
) -> float:
    """Max abs difference between torch and onnxruntime on (ids, mask); raise above ``tol``."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_a, got_s = sess.run(["anchors", "score"], {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        ref_a, ref_s = model(torch.from_numpy(ids), torch.from_numpy(mask))
    diff = max(
        float(np.abs(got_a - ref_a.numpy()).max()), float(np.abs(got_s - ref_s.numpy()).max())
    )
    log.info("ONNX parity %s: max abs diff %.2e over %d docs", path.name, diff, len(ids))
    if not diff <= tol:
        raise ParityError(f"{path}: ONNX vs torch max abs diff {diff:.3e} > {tol:.0e}")
    return diff
