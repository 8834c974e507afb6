"""Export a student to ONNX (dynamic batch and sequence axes) and measure parity with torch.

SERVICES.md: ``torch.onnx.export(..., dynamo=False, opset_version=18)`` through a wrapper taking
keyword arguments works (dynamo=True produced an invalid graph).
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
    ([batch, seq] int64) and outputs anchors [batch, K], score [batch, 1] (float32)."""
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask)

    wrapper = _Wrapper(model.eval()).eval()
    args = (torch.from_numpy(sample_ids), torch.from_numpy(sample_mask))
    # Tracer warnings name shape checks that are constant for BERT inputs (seq >= 2, no cache).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper, args, str(path), dynamo=False, opset_version=OPSET,
            input_names=["input_ids", "attention_mask"], output_names=["anchors", "score"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                          "attention_mask": {0: "batch", 1: "seq"},
                          "anchors": {0: "batch"}, "score": {0: "batch"}},
        )


def parity(model: Any, path: Path, ids: np.ndarray, mask: np.ndarray,
           tol: float = PARITY_TOL) -> float:
    """Max abs difference between torch and onnxruntime on (ids, mask); raise above ``tol``."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_a, got_s = sess.run(["anchors", "score"], {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        ref_a, ref_s = model(torch.from_numpy(ids), torch.from_numpy(mask))
    diff = max(float(np.abs(got_a - ref_a.numpy()).max()),
               float(np.abs(got_s - ref_s.numpy()).max()))
    log.info("ONNX parity %s: max abs diff %.2e over %d docs", path.name, diff, len(ids))
    if not diff <= tol:
        raise ParityError(f"{path}: ONNX vs torch max abs diff {diff:.3e} > {tol:.0e}")
    return diff
