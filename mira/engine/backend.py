"""The one verb every inference backend offers: score a tokenized batch with a group's model.

Errors are classified where they happen:
- ``BackendUnavailable``: the server or model cannot answer now (down, loading, timed out);
  the same request may succeed later.  Never a document's fault: retry, report not-ready.
- ``BatchRejected``: the backend refused this request for what it holds; the engine splits the
  batch to find the document(s) at fault and dead-letters those alone.
- ``ModelMismatch``: the model answered with shapes the manifest does not describe (a model /
  manifest mismatch, e.g. a half-finished reload): infrastructure, never a document's fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class BackendUnavailable(RuntimeError):
    """Inference cannot happen now; retry later."""


class ModelMismatch(BackendUnavailable):
    """Outputs disagree with the manifest (anchors count, batch size)."""


class BatchRejected(RuntimeError):
    """The backend refused this batch for its content."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """One model version of the repository (``mira_<group>`` / version)."""

    name: str
    version: int


@runtime_checkable
class ScoringBackend(Protocol):
    """Score ``[N, L]`` int64 inputs with one model version.

    Returns ``(anchors, score)``: float32 ``[N, K]`` anchor scores and float32 ``[N]`` aggregate.
    """

    async def score(
        self, model: ModelRef, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...

    async def close(self) -> None: ...
