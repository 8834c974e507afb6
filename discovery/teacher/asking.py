"""Ask the teacher about many documents through the resumable cache, batch by batch.

Finished documents (ok or failed) are committed one by one; cached ones are never re-asked.
Progress (docs/s, ETA) goes to a progress bar and, once per batch, to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from discovery.teacher.base import Check, Failed, Prompt, Teacher
from discovery.teacher.cache import AnnotationCache
from mira.contracts import text_hash
from mira.progress import bar

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Item:
    """One document to ask about: the text exactly as shown to the teacher."""

    doc_id: str
    source: str
    text: str


@dataclass(frozen=True)
class Outcome(Generic[T]):
    item: Item
    value: T | None
    failure: str | None
    cached: bool


def ask_cached(
    teacher: Teacher,
    cache: AnnotationCache,
    items: Sequence[Item],
    *,
    namespace: str,
    prompt: Callable[[Item], Prompt],
    schema: type[T],
    check: Check | None = None,
    batch_size: int = 8,
    desc: str = "teacher",
    temperature: float = 0.0,
) -> list[Outcome[T]]:
    """Answers for ``items`` in order; ``namespace`` (e.g. rubric version) is part of the key."""
    results: dict[int, Outcome[T]] = {}
    todo: list[int] = []
    for i, item in enumerate(items):
        hit = cache.get(text_hash(item.text), namespace, teacher.teacher_id)
        if hit is None:
            todo.append(i)
        else:
            results[i] = _from_cache(item, hit, schema)
    if len(todo) < len(items):
        log.info("%s: %d of %d documents already cached", desc, len(items) - len(todo), len(items))
    started = time.perf_counter()
    with bar(desc=desc, total=len(todo)) as pbar:
        for b in range(0, len(todo), batch_size):
            idx = todo[b : b + batch_size]
            answers = teacher.ask_many([prompt(items[i]) for i in idx], schema, check, temperature)
            for i, ans in zip(idx, answers, strict=True):
                results[i] = _store(cache, items[i], ans, namespace, teacher.teacher_id)
            pbar.update(len(idx))
            _log_rate(desc, b + len(idx), len(todo), started)
    return [results[i] for i in range(len(items))]


def _from_cache(item: Item, hit: tuple[str, Any], schema: type[T]) -> Outcome[T]:
    status, payload = hit
    if status == "ok":
        return Outcome(item, schema.model_validate(payload), None, True)
    return Outcome(item, None, str(payload.get("reason", "failed")), True)


def _store(
    cache: AnnotationCache, item: Item, ans: Any, namespace: str, teacher: str
) -> Outcome[Any]:
    key = text_hash(item.text)
    if isinstance(ans, Failed):
        payload = {"reason": ans.reason, "detail": ans.detail, "raw": ans.raw[:2000]}
        cache.put(key, namespace, teacher, item.doc_id, "failed", payload)
        return Outcome(item, None, ans.reason, False)
    cache.put(key, namespace, teacher, item.doc_id, "ok", ans.model_dump(mode="json"))
    return Outcome(item, ans, None, False)


def _log_rate(desc: str, done: int, total: int, started: float) -> None:
    elapsed = max(time.perf_counter() - started, 1e-9)
    rate = done / elapsed
    eta = (total - done) / rate if rate > 0 else float("inf")
    log.info("%s: %d/%d docs, %.2f docs/s, ETA %.0f s", desc, done, total, rate, eta)


def counts(res: Sequence[object]) -> dict[str, int]:
    ok = sum(getattr(r, "value", None) is not None for r in res)
    cached = sum(bool(getattr(r, "cached", False)) for r in res)
    return {"docs": len(res), "answered": ok, "failed": len(res) - ok, "from_cache": cached}
