"""Triton gRPC backend for the student models (``tritonclient.grpc.aio``, binary tensors).

One request per micro-batch, at most ``max_in_flight`` at once.  Errors are classified:
``BackendUnavailable`` (server down, model not loaded, timed out: retry later), ``Ambiguous``
(INTERNAL / UNKNOWN: could be the server or the batch; the engine retries a few times, then
splits the batch and checks a canary before blaming a document) and ``BatchRejected`` (the
request's content was refused).

A timed-out request never multiplies the server's work (``Deadline``):
- Triton rejects a request still queued after ``queue_timeout_s`` (sent with the request; the
  exported configs' queue policy allows it): rejected work was never computed, so its retry is
  free;
- the client's deadline adds an execution budget proportional to batch size x sequence length,
  so a large batch is not given up while it is still being computed;
- if the deadline passes anyway (a server far slower than its budget), the request keeps its
  in-flight slot for one more execution budget before the error reaches the retry loop: no
  resend while the first attempt may still be running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mira import metrics
from mira.engine.backend import BackendUnavailable, BatchRejected, ModelRef

log = logging.getLogger(__name__)

_UNAVAILABLE = {
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
    "CANCELLED",
    "NOT_FOUND",
    "RESOURCE_EXHAUSTED",
    "ABORTED",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
}
_AMBIGUOUS = {"UNKNOWN", "INTERNAL", ""}


class Ambiguous(BackendUnavailable):
    """A failure that may be the server's or the batch's (bounded retries, then bisection)."""


def classify(exc: Exception) -> Exception:
    """Map a tritonclient exception to BackendUnavailable, Ambiguous or BatchRejected."""
    status = getattr(exc, "status", None)
    code = str(status() if callable(status) else status or "").removeprefix("StatusCode.")
    get_message = getattr(exc, "message", None)
    message = get_message() if callable(get_message) else str(exc)
    text = f"{code or type(exc).__name__}: {message}"
    if code in _UNAVAILABLE or (not code and not hasattr(exc, "status")):
        return BackendUnavailable(text)
    if code in _AMBIGUOUS:
        return Ambiguous(text)
    return BatchRejected(text)


@dataclass(frozen=True, slots=True)
class Deadline:
    """How long one request of ``n`` x ``length`` tokens may take, in parts."""

    base_s: float  # network and slack
    queue_timeout_s: float  # Triton rejects the request if it is still queued after this
    token_budget_s: float  # execution time allowed per token of the batch

    def execution_s(self, n: int, length: int) -> float:
        return self.token_budget_s * n * length

    def client_s(self, n: int, length: int) -> float:
        """The client's deadline: queue bound + execution budget + base."""
        return self.base_s + self.queue_timeout_s + self.execution_s(n, length)

    @property
    def queue_timeout_us(self) -> int:
        return max(1, int(self.queue_timeout_s * 1e6))


def deadline_exceeded(exc: Exception) -> bool:
    """The client gave up waiting (the server may still be computing the request)."""
    status = getattr(exc, "status", None)
    return "DEADLINE_EXCEEDED" in str(status() if callable(status) else status or "")


def make_inputs(module: Any, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[Any]:
    """Two INT64 binary tensors named as the model contract says."""
    inputs = []
    for name, arr in (("input_ids", input_ids), ("attention_mask", attention_mask)):
        tensor = module.InferInput(name, list(arr.shape), "INT64")
        tensor.set_data_from_numpy(np.ascontiguousarray(arr, dtype=np.int64))
        inputs.append(tensor)
    return inputs


def read_outputs(result: Any) -> tuple[np.ndarray, np.ndarray]:
    anchors = result.as_numpy("anchors")
    score = result.as_numpy("score")
    if anchors is None or score is None:
        raise BatchRejected("response lacks 'anchors' or 'score'")
    return np.asarray(anchors, dtype=np.float32), np.asarray(score, dtype=np.float32)


class TritonBackend:
    """Async scoring on one Triton server with at most ``max_in_flight`` requests."""

    def __init__(
        self, url: str, max_in_flight: int, deadline: Deadline, tls: Mapping[str, Any]
    ) -> None:
        import tritonclient.grpc as grpcclient
        import tritonclient.grpc.aio as aioclient

        self._mod = grpcclient
        self.url = url
        # tls: ssl/root_certificates/private_key/certificate_chain (TritonSettings.grpc_tls_kwargs)
        self._client = aioclient.InferenceServerClient(url, **tls)
        self._sem = asyncio.Semaphore(max_in_flight)
        self.deadline = deadline
        self.timeout_s = deadline.base_s  # control calls (load, config)

    async def score(
        self, model: ModelRef, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = make_inputs(self._mod, input_ids, attention_mask)
        n, length = input_ids.shape
        async with self._sem:
            try:
                result = await self._client.infer(
                    model.name,
                    inputs,
                    model_version=str(model.version),
                    client_timeout=self.deadline.client_s(n, length),
                    timeout=self.deadline.queue_timeout_us,
                )
            except Exception as exc:  # tritonclient raises InferenceServerException and grpc errors
                if deadline_exceeded(exc):
                    await self._hold_after_deadline(model, n, length)
                raise classify(exc) from exc
        return read_outputs(result)

    async def _hold_after_deadline(self, model: ModelRef, n: int, length: int) -> None:
        """Keep the slot (and the retry) waiting while the server may still run the request."""
        metrics.TRITON_TIMEOUTS.labels(model.name).inc()
        hold = self.deadline.execution_s(n, length)
        log.warning(
            "%s: a %dx%d request passed its %.1f s deadline; its retry waits %.1f s "
            "more (the server may still be computing it)",
            model.name,
            n,
            length,
            self.deadline.client_s(n, length),
            hold,
        )
        await asyncio.sleep(hold)

    async def is_ready(self) -> bool:
        try:
            return bool(await self._client.is_server_ready(client_timeout=2.0))
        except Exception:  # any failure to answer is "not ready"
            return False

    async def is_live(self) -> bool:
        """The server answers (unlike ``is_ready``, also while it loads a model version)."""
        try:
            return bool(await self._client.is_server_live(client_timeout=2.0))
        except Exception:  # any failure to answer is "not live"
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
        except Exception as exc:  # classified like an inference error
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
        except Exception:  # any failure to answer is "not ready"
            return False

    async def close(self) -> None:
        await self._client.close()
