"""The teacher interface: chat messages in, a validated pydantic object out.

Backends only implement ``complete`` (raw text for a batch of prompts).  ``Teacher.ask_many``
wraps it with parsing, repair, bounded retries and per-reason counters, so every backend applies
the same rules and nothing invalid is ever returned silently.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from discovery.teacher.parse import AnswerError, parse_answer

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Message = dict[str, str]
# A check run on a schema-valid answer: returns the (possibly repaired) value and whether it
# changed, or raises AnswerError (e.g. "missing_anchors").
Check = Callable[[Any], tuple[Any, bool]]


@dataclass(frozen=True)
class Prompt:
    """One request: chat messages and the JSON Schema of the answer (None: the answer model's
    own schema).  Every backend enforces the same schema (discovery/teacher/schemas.py)."""

    messages: list[Message]
    schema: dict[str, Any] | None = None

    def json_schema(self, answer: type[BaseModel]) -> dict[str, Any]:
        return self.schema if self.schema is not None else answer.model_json_schema()


@dataclass(frozen=True)
class Sampling:
    """How to decode: greedy on the first try, seeded sampling on retries."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Failed:
    """A request that produced no usable answer after all retries."""

    reason: str
    detail: str
    raw: str


@dataclass
class AnswerStats:
    """Outcome counters: ok, repaired, retried, failed, and failure reasons."""

    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def as_dict(self) -> dict[str, int]:
        out = {k: self.outcomes.get(k, 0) for k in ("ok", "repaired", "retried", "failed")}
        out["requests"] = self.requests
        out.update({f"error_{k}": v for k, v in sorted(self.reasons.items())})
        return out


class Teacher(ABC):
    """Base class of every teacher backend."""

    # True when the backend enforces the answer's shape itself (guided / structured decoding);
    # unguided backends get a worked example in their prompts.
    guided: bool = False

    def __init__(self, *, max_retries: int = 2, max_new_tokens: int = 256, seed: int = 0):
        self.max_retries = max_retries
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self.stats = AnswerStats()

    @property
    @abstractmethod
    def teacher_id(self) -> str:
        """Stable id of backend + model (part of cache keys and artifacts)."""

    @abstractmethod
    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        """Raw answer text for each prompt; "" when the backend failed."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP clients, models)."""

    def ask(
        self, prompt: Prompt, schema: type[T], check: Check | None = None, temperature: float = 0.0
    ) -> T | Failed:
        return self.ask_many([prompt], schema, check, temperature)[0]

    def ask_many(
        self,
        prompts: Sequence[Prompt],
        schema: type[T],
        check: Check | None = None,
        temperature: float = 0.0,
    ) -> list[T | Failed]:
        """Ask every prompt; retry invalid answers (bounded, sampled); count every outcome.

        ``temperature`` 0 means greedy on the first try; retries always sample (0.7 or more)."""
        results: list[T | Failed | None] = [None] * len(prompts)
        pending = list(range(len(prompts)))
        attempt = 0
        while pending:
            sampling = Sampling(
                max_new_tokens=self.max_new_tokens,
                temperature=temperature if attempt == 0 else max(temperature, 0.7),
                seed=self.seed + attempt,
            )
            raws = self.complete([prompts[i] for i in pending], schema, sampling)
            self.stats.requests += len(pending)
            retry: list[int] = []
            for i, raw in zip(pending, raws, strict=True):
                outcome = self._judge(raw, schema, check, attempt)
                if isinstance(outcome, Failed) and attempt < self.max_retries:
                    self.stats.reasons[outcome.reason] += 1
                    retry.append(i)
                    continue
                if isinstance(outcome, Failed):
                    self.stats.reasons[outcome.reason] += 1
                    self.stats.outcomes["failed"] += 1
                    log.debug("teacher answer failed (%s): %s", outcome.reason, outcome.detail)
                results[i] = outcome
            pending, attempt = retry, attempt + 1
        return [r for r in results if r is not None]

    def _judge(self, raw: str, schema: type[T], check: Check | None, attempt: int) -> T | Failed:
        if not raw:
            return Failed("backend_error", "no answer from the backend", raw)
        try:
            parsed = parse_answer(raw, schema)
            value, changed = check(parsed.value) if check else (parsed.value, False)
        except AnswerError as exc:
            return Failed(exc.reason, exc.detail, raw)
        if attempt > 0:
            self.stats.outcomes["retried"] += 1
        elif parsed.repaired or changed:
            self.stats.outcomes["repaired"] += 1
        else:
            self.stats.outcomes["ok"] += 1
        return value  # type: ignore[no-any-return]


class CallableTeacher(Teacher):
    """A teacher over a plain function (tests, and wrapping other clients)."""

    def __init__(self, fn: Callable[[Prompt, Sampling], str], teacher_id: str = "fn", **kw: Any):
        super().__init__(**kw)
        self._fn = fn
        self._id = teacher_id

    @property
    def teacher_id(self) -> str:
        return self._id

    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        return [self._fn(p, sampling) for p in prompts]
