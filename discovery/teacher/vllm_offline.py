"""vLLM offline teacher (``vllm.LLM`` + structured outputs) for GPU nodes.

vLLM is imported only when this backend is built; it is not installable on the CPU dev machine,
so only the request building is unit-tested here (see docs/discovery.md for a GPU run).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from discovery.teacher.base import Prompt, Sampling, Teacher

log = logging.getLogger(__name__)


def sampling_kwargs(schema: type[BaseModel], sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` (structured output added by the caller)."""
    return {
        "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "seed": sampling.seed,
    }


def structured_params(vllm_sampling: Any, json_schema: dict[str, Any]) -> Any:
    """The structured-output object of the installed vLLM: ``StructuredOutputsParams`` (>=0.10)
    or ``GuidedDecodingParams`` (older); both accept ``json=<JSON schema>``."""
    if hasattr(vllm_sampling, "StructuredOutputsParams"):
        return "structured_outputs", vllm_sampling.StructuredOutputsParams(json=json_schema)
    return "guided_decoding", vllm_sampling.GuidedDecodingParams(json=json_schema)


class VLLMTeacher(Teacher):
    """Batched offline generation with a local vLLM engine."""

    guided = True

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        max_model_len: int = 8192,
        gpu_memory_utilization: float = 0.9,
        **kw: Any,
    ):
        super().__init__(**kw)
        import vllm  # GPU nodes only

        self._vllm = vllm
        self.model = model
        self.llm = vllm.LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
        )

    @property
    def teacher_id(self) -> str:
        return f"vllm:{self.model}"

    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        import vllm.sampling_params as sp

        params = []
        for p in prompts:  # one SamplingParams per prompt: each carries its own schema
            field, structured = structured_params(sp, p.json_schema(schema))
            params.append(
                self._vllm.SamplingParams(
                    **sampling_kwargs(schema, sampling), **{field: structured}
                )
            )
        outputs = self.llm.chat(
            [p.messages for p in prompts], sampling_params=params, use_tqdm=False
        )
        return [o.outputs[0].text if o.outputs else "" for o in outputs]
