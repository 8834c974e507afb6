"""Engines from settings: in-process onnxruntime over a repository, or Triton over gRPC."""

from __future__ import annotations

from pathlib import Path

from mira.contracts import RepositoryManifest
from mira.engine.backend import ModelRef
from mira.engine.engine import Engine, RetryPolicy
from mira.engine.ort import OrtBackend
from mira.engine.tokenpool import TokenizerPool
from mira.engine.triton import Deadline
from mira.repository import verify_models
from mira.settings import EngineSettings, TritonSettings


def model_refs(manifest: RepositoryManifest) -> list[ModelRef]:
    return [ModelRef(gm.model, gm.version) for gm in manifest.groups.values()]


def tokenizer_pool(repo: Path, manifest: RepositoryManifest, workers: int) -> TokenizerPool:
    """The tokenizer the repository names (``manifest.tokenizer`` is relative to it)."""
    return TokenizerPool(Path(repo) / manifest.tokenizer, manifest.max_length,
                         manifest.max_chars, workers)


def retry_policy(es: EngineSettings, max_attempts: int | None) -> RetryPolicy:
    return RetryPolicy(es.retry_initial_s, es.retry_max_s, max_attempts, es.ambiguous_retries)


def deadline(ts: TritonSettings) -> Deadline:
    return Deadline(ts.timeout_s, ts.queue_timeout_ms / 1e3, ts.token_budget_ms / 1e3)


def local_engine(repo: Path, manifest: RepositoryManifest, es: EngineSettings) -> Engine:
    """ONNX Runtime in-process over verified model files (``mira filter``)."""
    verify_models(repo, manifest)
    backend = OrtBackend.from_repository(repo, model_refs(manifest), es.ort_threads)
    return Engine(backend, tokenizer_pool(repo, manifest, 1),
                  retry_policy(es, es.local_max_attempts))


def triton_engine(repo: Path, manifest: RepositoryManifest, es: EngineSettings,
                  ts: TritonSettings, tokenizer_workers: int) -> Engine:
    """Triton over gRPC; infrastructure failures are retried forever (``mira score``)."""
    from mira.engine.triton import TritonBackend

    verify_models(repo, manifest)
    backend = TritonBackend(ts.grpc_url, ts.max_in_flight, deadline(ts), ts.grpc_tls_kwargs())
    return Engine(backend, tokenizer_pool(repo, manifest, tokenizer_workers),
                  retry_policy(es, None))
