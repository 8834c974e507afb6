"""In-process onnxruntime scoring backend (the embedded default of ``mira filter``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mira.contracts import RepositoryManifest
from scorer.backend import BackendError

log = logging.getLogger(__name__)


def _session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    # Spinning worker threads burn the cores the tokenizer (and other pods) need; off by default.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                 if p in ort.get_available_providers()]
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)


class OrtBackend:
    """Score with one ONNX session per model name (``mira_<group>``), loaded lazily."""

    def __init__(self, model_files: Mapping[str, Path], threads: int | None = None) -> None:
        self._files = {name: Path(p) for name, p in model_files.items()}
        self._threads = threads
        self._sessions: dict[str, Any] = {}

    @classmethod
    def from_manifest(
        cls, repo_dir: Path, manifest: RepositoryManifest, threads: int | None = None
    ) -> OrtBackend:
        """Backend over the manifest's model versions in ``repo_dir``."""
        files = {
            gm.model: Path(repo_dir) / gm.model / str(gm.version) / "model.onnx"
            for gm in manifest.groups.values()
        }
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"model files named by the manifest are missing: {missing}")
        return cls(files, threads)

    def _get(self, model: str) -> Any:
        if model not in self._sessions:
            if model not in self._files:
                raise BackendError(f"unknown model {model!r}; known: {sorted(self._files)}")
            log.debug("loading %s from %s", model, self._files[model])
            self._sessions[model] = _session(self._files[model], self._threads)
        return self._sessions[model]

    def score(
        self, model: str, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the model; returns float32 anchors [N, K] and aggregate score [N]."""
        sess = self._get(model)
        feeds = {
            "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
        }
        try:
            anchors, score = sess.run(["anchors", "score"], feeds)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BackendError(f"{model}: {exc}") from exc
        return anchors.astype(np.float32), score.reshape(-1).astype(np.float32)
