"""The one verb every inference backend offers: score a tokenized batch with a group's model."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


class BackendError(RuntimeError):
    """Inference failed (the batch's documents go to dead-letter as ``inference_failed``)."""


@runtime_checkable
class ScoringBackend(Protocol):
    """Score ``[N, L]`` int64 inputs with model ``model`` (e.g. ``mira_code``).

    Returns ``(anchors, score)``: float32 ``[N, K]`` anchor scores and float32 ``[N]`` aggregate.
    """

    def score(
        self, model: str, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...
