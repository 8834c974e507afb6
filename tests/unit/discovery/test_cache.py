"""The SQLite answer cache and the cached asking loop (resume without re-asking)."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.teacher.asking import Item, ask_cached
from discovery.teacher.base import CallableTeacher, Prompt, Sampling
from discovery.teacher.cache import AnnotationCache
from discovery.teacher.prompts import anchor_check, score_prompt
from mira.contracts import Anchor, ScoreAnswer

ANCHORS = [Anchor(name="a", description="d")]
OK = '{"scores": [{"anchor": "a", "score": 2, "rationale": "r"}]}'


class Boom(RuntimeError):
    pass


def _teacher(fail_after: int | None, calls: list[str]) -> CallableTeacher:
    def fn(prompt: Prompt, sampling: Sampling) -> str:
        if fail_after is not None and len(calls) >= fail_after:
            raise Boom("killed")
        calls.append(prompt.messages[-1]["content"])
        return OK if "bad" not in prompt.messages[-1]["content"] else "no json"

    return CallableTeacher(fn, max_retries=0)


def _ask(teacher: CallableTeacher, cache: AnnotationCache, items: list[Item]) -> list:  # type: ignore[type-arg]
    return ask_cached(
        teacher,
        cache,
        items,
        namespace="v1",
        schema=ScoreAnswer,
        prompt=lambda it: score_prompt(it.source, it.text, ANCHORS),
        check=anchor_check(["a"]),
        batch_size=2,
    )


def test_resume_after_crash_does_not_reask(tmp_path: Path) -> None:
    items = [Item(f"d{i}", "s", f"text {i}" + (" bad" if i == 3 else "")) for i in range(6)]
    calls: list[str] = []
    with AnnotationCache(tmp_path / "c.sqlite") as cache, pytest.raises(Boom):
        _ask(_teacher(4, calls), cache, items)  # dies in the 3rd batch
    assert len(calls) == 4
    calls2: list[str] = []
    with AnnotationCache(tmp_path / "c.sqlite") as cache:
        out = _ask(_teacher(None, calls2), cache, items)
        assert cache.count("v1") == {"ok": 5, "failed": 1}
    assert len(calls2) == 2  # only the batch that never finished
    assert [o.cached for o in out] == [True] * 4 + [False] * 2
    assert out[3].failure == "no_json" and out[3].value is None
    calls3: list[str] = []
    with AnnotationCache(tmp_path / "c.sqlite") as cache:
        _ask(_teacher(None, calls3), cache, items)
    assert calls3 == []


def test_key_includes_namespace_and_teacher(tmp_path: Path) -> None:
    with AnnotationCache(tmp_path / "c.sqlite") as cache:
        cache.put("h", "v1", "t1", "d", "ok", {"x": 1})
        assert cache.get("h", "v1", "t1") == ("ok", {"x": 1})
        assert cache.get("h", "v2", "t1") is None
        assert cache.get("h", "v1", "t2") is None
