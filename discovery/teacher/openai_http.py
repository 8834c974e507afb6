"""OpenAI-compatible HTTP teacher (``vllm serve``, ``transformers serve``, llama.cpp server).

Bounded concurrency (a thread pool), per-request timeout, retries with exponential backoff and
jitter on 429/5xx/timeouts/connection errors.  Structured output is requested as
``response_format={"type": "json_schema", ...}`` (or vLLM's legacy ``guided_json``); a server
that rejects the field (HTTP 400/422 naming it) is asked again without it, once, and the
fallback is remembered.  Answers are validated by the Teacher base class either way.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import httpx
from pydantic import BaseModel, SecretStr

from discovery.teacher.base import Prompt, Sampling, Teacher

log = logging.getLogger(__name__)

StructuredMode = Literal["json_schema", "guided_json", "none"]
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class BackendError(RuntimeError):
    """The server kept failing (after retries) or answered something unusable."""


def build_body(
    prompt: Prompt, schema: type[BaseModel], sampling: Sampling, model: str, mode: StructuredMode
) -> dict[str, Any]:
    """The /v1/chat/completions request body for one prompt."""
    body: dict[str, Any] = {
        "model": model,
        "messages": prompt.messages,
        "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "seed": sampling.seed,
    }
    if mode == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": schema.__name__,
                "schema": prompt.json_schema(schema),
                "strict": True,
            },
        }
    elif mode == "guided_json":
        body["guided_json"] = prompt.json_schema(schema)
    return body


class OpenAITeacher(Teacher):
    """Chat completions over HTTP."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: SecretStr | None = None,
        timeout_s: float = 120.0,
        concurrency: int = 4,
        http_retries: int = 4,
        backoff_s: float = 0.5,
        structured: StructuredMode = "json_schema",
        transport: httpx.BaseTransport | None = None,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.model = model
        self.structured: StructuredMode = structured
        self.http_retries = http_retries
        self.backoff_s = backoff_s
        self.concurrency = max(1, concurrency)
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}
        url = base_url.rstrip("/")
        self.url = url if url.endswith("/v1") else url + "/v1"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            headers=headers,
            limits=httpx.Limits(max_connections=self.concurrency),
            transport=transport,
        )
        self.http_requests = 0

    @property
    def teacher_id(self) -> str:
        return f"openai:{self.model}"

    def close(self) -> None:
        self._client.close()

    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        if len(prompts) == 1 or self.concurrency == 1:
            return [self._one(p, schema, sampling) for p in prompts]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda p: self._one(p, schema, sampling), prompts))

    def _one(self, prompt: Prompt, schema: type[BaseModel], sampling: Sampling) -> str:
        try:
            return self._post(prompt, schema, sampling)
        except BackendError as exc:
            log.warning("teacher request failed: %s", exc)
            return ""

    def _post(self, prompt: Prompt, schema: type[BaseModel], sampling: Sampling) -> str:
        for attempt in range(self.http_retries + 1):
            mode = self.structured
            body = build_body(prompt, schema, sampling, self.model, mode)
            try:
                self.http_requests += 1
                resp = self._client.post(f"{self.url}/chat/completions", json=body)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._sleep(attempt, f"{type(exc).__name__}: {exc}")
                continue
            if resp.status_code in (400, 422) and mode != "none" and _rejects(resp.text):
                log.warning(
                    "server rejected structured output (%s); falling back to none", resp.text[:200]
                )
                self.structured = "none"
                continue
            if resp.status_code in _RETRY_STATUS:
                self._sleep(attempt, f"HTTP {resp.status_code}")
                continue
            if resp.status_code != 200:
                raise BackendError(f"HTTP {resp.status_code}: {resp.text[:300]}")
            return _content(resp)
        raise BackendError(f"gave up after {self.http_retries + 1} attempts")

    def _sleep(self, attempt: int, why: str) -> None:
        if attempt >= self.http_retries:
            return
        delay = self.backoff_s * (2**attempt) * (0.5 + random.random())
        log.info("teacher request retry %d in %.2f s (%s)", attempt + 1, delay, why)
        time.sleep(delay)


def _rejects(text: str) -> bool:
    low = text.lower()
    return any(k in low for k in ("response_format", "guided_json", "json_schema", "unexpected"))


def _content(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"malformed completion: {exc!r}: {resp.text[:200]}") from None
    return content if isinstance(content, str) else ""
