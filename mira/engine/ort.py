"""In-process onnxruntime backend (the embedded default of ``mira filter``, and calibration).

Sessions are loaded lazily per model version from ``<repo>/<name>/<version>/model.onnx``;
inference runs in a worker thread (onnxruntime releases the GIL), so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from mira.engine.backend import BatchRejected, ModelRef

log = logging.getLogger(__name__)


def _session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    # Spinning worker threads burn the cores the tokenizer (and other pods) need; off.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = [
        p
        for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
        if p in ort.get_available_providers()
    ]
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)


class OrtBackend:
    """Score with one ONNX session per model version, loaded on first use."""

    def __init__(self, files: Mapping[ModelRef, Path], threads: int | None) -> None:
        self._files = dict(files)
        self._threads = threads
        self._sessions: dict[ModelRef, Any] = {}
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="onnxruntime")

    @classmethod
    def from_repository(
        cls, repo_dir: Path, models: list[ModelRef], threads: int | None
    ) -> OrtBackend:
        """Sessions over ``repo_dir/<name>/<version>/model.onnx`` for each model."""
        files = {m: Path(repo_dir) / m.name / str(m.version) / "model.onnx" for m in models}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"model files named by the manifest are missing: {missing}")
        return cls(files, threads)

    def _get(self, model: ModelRef) -> Any:
        if model not in self._sessions:
            if model not in self._files:
                raise KeyError(f"unknown model {model}; known: {sorted(map(str, self._files))}")
            log.debug("loading %s from %s", model, self._files[model])
            self._sessions[model] = _session(self._files[model], self._threads)
        return self._sessions[model]

    def _run(
        self, model: ModelRef, ids: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        sess = self._get(model)
        feeds = {
            "input_ids": np.ascontiguousarray(ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(mask, dtype=np.int64),
        }
        try:
            anchors, score = sess.run(["anchors", "score"], feeds)
        except Exception as exc:  # onnxruntime raises its own types, all about these inputs
            raise BatchRejected(f"{model.name}: {exc}") from exc
        return np.asarray(anchors, dtype=np.float32), np.asarray(score, dtype=np.float32)

    async def score(
        self, model: ModelRef, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._exec, self._run, model, input_ids, attention_mask)

    async def close(self) -> None:
        self._exec.shutdown(wait=False)
