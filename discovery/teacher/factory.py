"""Build the configured teacher backend (heavy imports happen only for the one chosen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from discovery.teacher.base import Teacher

Backend = Literal["local", "openai", "vllm"]


def make_teacher(
    backend: Backend,
    *,
    model: str | None = None,
    url: str | None = None,
    api_key: SecretStr | None = None,
    timeout_s: float = 120.0,
    concurrency: int = 4,
    batch_size: int = 8,
    max_new_tokens: int = 256,
    max_retries: int = 2,
    seed: int = 0,
    device: str = "cpu",
    quantize: bool = True,
) -> Teacher:
    common: dict[str, Any] = {
        "max_retries": max_retries,
        "max_new_tokens": max_new_tokens,
        "seed": seed,
    }
    if backend == "local":
        from discovery.teacher.local_hf import LocalHFTeacher

        return LocalHFTeacher(
            Path(model) if model else None,
            batch_size=batch_size,
            device=device,
            quantize=quantize,
            **common,
        )
    if backend == "openai":
        from discovery.teacher.openai_http import OpenAITeacher

        if not url or not model:
            raise ValueError("the openai backend needs a server URL and a model name")
        return OpenAITeacher(
            url, model, api_key=api_key, timeout_s=timeout_s, concurrency=concurrency, **common
        )
    if backend == "vllm":
        from discovery.teacher.vllm_offline import VLLMTeacher

        if not model:
            raise ValueError("the vllm backend needs a model (hub id or local folder)")
        return VLLMTeacher(model, **common)
    raise ValueError(f"unknown teacher backend {backend!r}")
