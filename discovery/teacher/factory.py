"""Build the configured teacher backend (heavy imports happen only for the one chosen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discovery.teacher.base import Teacher
from mira.settings import TeacherSettings


def make_teacher(ts: TeacherSettings, seed: int) -> Teacher:
    """The teacher ``ts`` configures (``seed`` seeds sampled answers)."""
    common: dict[str, Any] = {
        "max_retries": ts.max_retries,
        "max_new_tokens": ts.max_new_tokens,
        "seed": seed,
    }
    if ts.backend == "local":
        from discovery.teacher.local_hf import LocalHFTeacher

        return LocalHFTeacher(
            Path(ts.model) if ts.model else None,
            batch_size=ts.batch_size,
            device=ts.device,
            quantize=ts.quantize,
            **common,
        )
    if ts.backend == "openai":
        from discovery.teacher.openai_http import OpenAITeacher

        if not ts.url or not ts.model:
            raise ValueError("the openai backend needs a server URL and a model name")
        return OpenAITeacher(
            ts.url,
            ts.model,
            api_key=ts.api_key,
            timeout_s=ts.timeout_s,
            concurrency=ts.concurrency,
            **common,
        )
    if ts.backend == "vllm":
        from discovery.teacher.vllm_offline import VLLMTeacher

        if not ts.model:
            raise ValueError("the vllm backend needs a model (hub id or local folder)")
        return VLLMTeacher(ts.model, **common)
    raise ValueError(f"unknown teacher backend {ts.backend!r}")
