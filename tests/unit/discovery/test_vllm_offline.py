"""vLLM offline backend: only request building (vLLM is not installable here)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from discovery.teacher.base import Sampling
from discovery.teacher.vllm_offline import sampling_kwargs, structured_params
from mira.contracts import ScoreAnswer


class _Params:
    def __init__(self, **kw: Any):
        self.kw = kw


def test_sampling_kwargs() -> None:
    assert sampling_kwargs(ScoreAnswer, Sampling(100, 0.7, 5)) == {
        "max_tokens": 100,
        "temperature": 0.7,
        "seed": 5,
    }


def test_structured_outputs_new_api() -> None:
    mod = SimpleNamespace(StructuredOutputsParams=_Params, GuidedDecodingParams=_Params)
    field, params = structured_params(mod, ScoreAnswer.model_json_schema())
    assert field == "structured_outputs"
    assert params.kw["json"]["title"] == "ScoreAnswer"


def test_guided_decoding_old_api() -> None:
    field, params = structured_params(
        SimpleNamespace(GuidedDecodingParams=_Params), ScoreAnswer.model_json_schema()
    )
    assert field == "guided_decoding" and "properties" in params.kw["json"]
