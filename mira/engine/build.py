"""Engines from settings: in-process onnxruntime over a repository, or Triton over gRPC."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mira.contracts import RepositoryManifest
from mira.engine.backend import ModelRef
from mira.engine.engine import Engine, RetryPolicy
from mira.engine.ort import OrtBackend
from mira.engine.tokenpool import TokenizerPool
from mira.engine.triton import Deadline
from mira.repository import verify_models
from mira.settings import EngineSettings, TritonSettings

if TYPE_CHECKING:
    from mira.engine.pool import TritonPool
    from mira.engine.triton import TritonBackend


def model_refs(manifest: RepositoryManifest) -> list[ModelRef]:
    return [ModelRef(gm.model, gm.version) for gm in manifest.groups.values()]


def tokenizer_pool(repo: Path, manifest: RepositoryManifest, workers: int) -> TokenizerPool:
    """The tokenizer the repository names (``manifest.tokenizer`` is relative to it)."""
    return TokenizerPool(
        Path(repo) / manifest.tokenizer, manifest.max_length, manifest.max_chars, workers
    )


def retry_policy(es: EngineSettings, max_attempts: int | None) -> RetryPolicy:
    return RetryPolicy(es.retry_initial_s, es.retry_max_s, max_attempts, es.ambiguous_retries)


def deadline(ts: TritonSettings) -> Deadline:
    return Deadline(ts.timeout_s, ts.queue_timeout_ms / 1e3, ts.token_budget_ms / 1e3)


def local_engine(repo: Path, manifest: RepositoryManifest, es: EngineSettings) -> Engine:
    """ONNX Runtime in-process over verified model files (``mira filter``)."""
    verify_models(repo, manifest)
    backend = OrtBackend.from_repository(repo, model_refs(manifest), es.ort_threads)
    return Engine(
        backend, tokenizer_pool(repo, manifest, 1), retry_policy(es, es.local_max_attempts)
    )


def triton_engine(
    repo: Path,
    manifest: RepositoryManifest,
    es: EngineSettings,
    ts: TritonSettings,
    tokenizer_workers: int,
) -> Engine:
    """Triton over gRPC, balanced over every endpoint of ``triton.grpc_url``; infrastructure
    failures are retried forever (``mira score``)."""
    verify_models(repo, manifest)
    backend = triton_pool(ts, model_refs(manifest))
    return Engine(
        backend, tokenizer_pool(repo, manifest, tokenizer_workers), retry_policy(es, None)
    )


def triton_pool(ts: TritonSettings, expected: list[ModelRef]) -> TritonPool:
    from mira.engine.pool import TritonPool

    return TritonPool(
        ts.grpc_targets(),
        lambda address, host: triton_client(ts, address, host),
        ts.endpoint_refresh_s,
        expected,
    )


def triton_client(ts: TritonSettings, address: str, host: str) -> TritonBackend:
    """The client of one endpoint ``address``, resolved from ``host`` (the TLS server name)."""
    from mira.engine.triton import TritonBackend

    return TritonBackend(address, ts.max_in_flight, deadline(ts), grpc_kwargs(ts, host))


def grpc_kwargs(ts: TritonSettings, host: str) -> dict[str, Any]:
    """TLS settings; a resolved address is verified against the name it was resolved from."""
    from mira.engine.endpoints import is_ip

    kwargs = ts.grpc_tls_kwargs()
    if not kwargs or is_ip(host):
        return kwargs
    import tritonclient.grpc as grpcclient

    keepalive = grpcclient.KeepAliveOptions()
    kwargs["channel_args"] = [  # tritonclient's defaults, plus the name to verify
        ("grpc.max_send_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
        ("grpc.keepalive_time_ms", keepalive.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", keepalive.keepalive_permit_without_calls),
        ("grpc.http2.max_pings_without_data", keepalive.http2_max_pings_without_data),
        ("grpc.ssl_target_name_override", host),
    ]
    return kwargs
