"""Triton gRPC clients for the student models (binary tensors, one request per micro-batch).

``TritonBackend`` is the synchronous ``ScoringBackend``; ``AsyncTritonScorer`` is what the
streaming app uses (``tritonclient.grpc.aio``), with a bounded number of requests in flight.
Errors are classified: ``TritonUnavailable`` (retry later) or ``BackendError`` (the batch is bad).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from scorer.backend import BackendError

log = logging.getLogger(__name__)

# gRPC codes that say nothing about the batch itself: wait and retry.
_RETRYABLE = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "NOT_FOUND", "UNKNOWN",
              "INTERNAL", "RESOURCE_EXHAUSTED", "ABORTED"}


class TritonUnavailable(RuntimeError):
    """Triton (or the model) cannot answer now; the same request may succeed later."""


def classify(exc: Exception) -> Exception:
    """Map a tritonclient exception to TritonUnavailable (retry) or BackendError (bad batch)."""
    status = getattr(exc, "status", None)
    code = str(status() if callable(status) else status or "").removeprefix("StatusCode.")
    get_message = getattr(exc, "message", None)
    message = get_message() if callable(get_message) else str(exc)
    if code in _RETRYABLE or not code:
        return TritonUnavailable(f"{code or type(exc).__name__}: {message}")
    return BackendError(f"{code}: {message}")


def make_inputs(module: Any, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[Any]:
    """Two INT64 binary tensors named as the model contract says."""
    if input_ids.shape != attention_mask.shape or input_ids.ndim != 2:
        raise BackendError(f"bad input shapes {input_ids.shape} / {attention_mask.shape}")
    inputs = []
    for name, arr in (("input_ids", input_ids), ("attention_mask", attention_mask)):
        tensor = module.InferInput(name, list(arr.shape), "INT64")
        tensor.set_data_from_numpy(np.ascontiguousarray(arr, dtype=np.int64))
        inputs.append(tensor)
    return inputs


def read_outputs(result: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    anchors = result.as_numpy("anchors")
    score = result.as_numpy("score")
    if anchors is None or score is None:
        raise BackendError("response lacks 'anchors' or 'score'")
    anchors = np.asarray(anchors, dtype=np.float32).reshape(n, -1)
    score = np.asarray(score, dtype=np.float32).reshape(n)
    return anchors, score


class TritonBackend:
    """Synchronous ``ScoringBackend`` over gRPC (benchmarks, tools)."""

    def __init__(self, url: str, timeout_s: float = 30.0, model_version: str = "") -> None:
        import tritonclient.grpc as grpcclient

        self._mod = grpcclient
        self._client = grpcclient.InferenceServerClient(url)
        self.timeout_s = timeout_s
        self.model_version = model_version

    def score(
        self, model: str, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = make_inputs(self._mod, input_ids, attention_mask)
        try:
            result = self._client.infer(model, inputs, model_version=self.model_version,
                                        client_timeout=self.timeout_s)
        except Exception as exc:
            raise classify(exc) from exc
        return read_outputs(result, len(input_ids))

    def close(self) -> None:
        self._client.close()


class AsyncTritonScorer:
    """Async scoring with at most ``max_in_flight`` concurrent requests."""

    def __init__(self, url: str, max_in_flight: int = 4, timeout_s: float = 30.0,
                 tls: Mapping[str, Any] | None = None) -> None:
        import tritonclient.grpc as grpcclient
        import tritonclient.grpc.aio as aioclient

        self._mod = grpcclient
        # tls: ssl/root_certificates/private_key/certificate_chain (TritonSettings.grpc_tls_kwargs)
        self._client = aioclient.InferenceServerClient(url, **(tls or {}))
        self._sem = asyncio.Semaphore(max_in_flight)
        self.timeout_s = timeout_s
        self.in_flight = 0

    async def score(
        self, model: str, version: str, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = make_inputs(self._mod, input_ids, attention_mask)
        async with self._sem:
            self.in_flight += 1
            try:
                result = await self._client.infer(
                    model, inputs, model_version=version, client_timeout=self.timeout_s
                )
            except Exception as exc:
                raise classify(exc) from exc
            finally:
                self.in_flight -= 1
        return read_outputs(result, len(input_ids))

    async def is_ready(self) -> bool:
        try:
            return bool(await self._client.is_server_ready(client_timeout=2.0))
        except Exception:
            return False

    async def load_model(self, model: str, keep_versions: int = 2) -> None:
        """(Re)load ``model`` from the repository, keeping the ``keep_versions`` newest versions
        loaded, so requests still naming the previous version succeed during a switch.

        The repository's config is used as is, except its version policy (sent as a config
        override: Triton's default policy would unload the old version as the new one loads).
        """
        override = await self._config_override(model, keep_versions)
        try:
            await self._client.load_model(model, config=override, client_timeout=self.timeout_s)
        except Exception as exc:
            raise classify(exc) from exc

    async def _config_override(self, model: str, keep_versions: int) -> str | None:
        from google.protobuf import json_format

        try:
            response = await self._client.get_model_config(model, client_timeout=5.0)
        except Exception:  # not loaded yet: load with the repository's own config
            return None
        config = response.config
        config.version_policy.latest.num_versions = keep_versions
        return str(json_format.MessageToJson(config, preserving_proto_field_name=True))

    async def model_ready(self, model: str, version: str) -> bool:
        try:
            return bool(await self._client.is_model_ready(model, version, client_timeout=2.0))
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.close()
