"""OpenAI-compatible backend: request body, retries with backoff, structured-output fallback."""

from __future__ import annotations

import json

import httpx
from pydantic import SecretStr

from discovery.teacher.base import Sampling
from discovery.teacher.openai_http import OpenAITeacher, build_body
from discovery.teacher.prompts import proposal_prompt
from mira.contracts import ProposalAnswer

ANSWER = json.dumps(
    {
        "dimensions": [
            {"name": "clarity", "description": "is it clear", "high": "clear", "low": "muddled"}
        ]
    }
)


def completion(content: str) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"message": {"role": "assistant", "content": content}}]}
    )


def make(handler, **kw) -> OpenAITeacher:  # type: ignore[no-untyped-def]
    return OpenAITeacher(
        "http://teacher.test",
        "m",
        api_key=SecretStr("sk-1"),
        backoff_s=0.001,
        transport=httpx.MockTransport(handler),
        **kw,
    )


def test_body_requests_json_schema() -> None:
    body = build_body(
        proposal_prompt("s", "t", 2), ProposalAnswer, Sampling(64, 0.0, 3), "m", "json_schema"
    )
    assert body["response_format"]["type"] == "json_schema"
    sent = body["response_format"]["json_schema"]["schema"]
    assert sent == proposal_prompt("s", "t", 2).schema  # the request's own narrowed schema
    assert sent["properties"]["dimensions"]["minItems"] == 2
    assert body["max_tokens"] == 64 and body["seed"] == 3 and body["temperature"] == 0.0
    assert "guided_json" in build_body(
        proposal_prompt("s", "t", 2), ProposalAnswer, Sampling(), "m", "guided_json"
    )
    assert "response_format" not in build_body(
        proposal_prompt("s", "t", 2), ProposalAnswer, Sampling(), "m", "none"
    )


def test_retries_429_and_5xx_then_succeeds() -> None:
    statuses = iter([429, 503, 200])
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        code = next(statuses)
        return completion(ANSWER) if code == 200 else httpx.Response(code, text="busy")

    t = make(handler)
    ans = t.ask(proposal_prompt("s", "doc", 1), ProposalAnswer)
    assert isinstance(ans, ProposalAnswer)
    assert len(seen) == 3 and t.http_requests == 3
    assert seen[0].headers["authorization"] == "Bearer sk-1"
    assert seen[0].url.path == "/v1/chat/completions"


def test_timeouts_exhausted_count_as_backend_error() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=req)

    t = make(handler, http_retries=2, max_retries=0)
    ans = t.ask(proposal_prompt("s", "doc", 1), ProposalAnswer)
    assert getattr(ans, "reason", None) == "backend_error"
    assert t.http_requests == 3


def test_falls_back_when_server_rejects_response_format() -> None:
    bodies: list[dict] = []  # type: ignore[type-arg]

    def handler(req: httpx.Request) -> httpx.Response:
        body = json.loads(req.content)
        bodies.append(body)
        if "response_format" in body:
            return httpx.Response(422, text="Unexpected fields in the request: {'response_format'}")
        return completion("```json\n" + ANSWER + "\n```")

    t = make(handler)
    for _ in range(2):
        assert isinstance(t.ask(proposal_prompt("s", "doc", 1), ProposalAnswer), ProposalAnswer)
    assert t.structured == "none"
    assert len(bodies) == 3  # one rejected, then two without the field
    assert t.stats.as_dict()["repaired"] == 2


def test_client_error_is_not_retried() -> None:
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, text="no such model")

    t = make(handler, max_retries=0)
    assert (
        getattr(t.ask(proposal_prompt("s", "d", 1), ProposalAnswer), "reason", "")
        == "backend_error"
    )
    assert len(calls) == 1
