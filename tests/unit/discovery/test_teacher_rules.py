"""Retry / count rules of Teacher.ask_many and the anchor check, with a fake teacher."""

from __future__ import annotations

from collections.abc import Sequence

from discovery.teacher.base import CallableTeacher, Failed, Prompt, Sampling
from discovery.teacher.prompts import anchor_check, score_prompt
from mira.contracts import Anchor, ScoreAnswer

ANCHORS = [Anchor(name="clarity", description="d"), Anchor(name="correctness", description="d")]


def scripted(answers: Sequence[str]) -> tuple[CallableTeacher, list[Sampling]]:
    seen: list[Sampling] = []
    it = iter(answers)

    def fn(prompt: Prompt, sampling: Sampling) -> str:
        seen.append(sampling)
        return next(it)

    return CallableTeacher(fn, max_retries=2), seen


def _ask(teacher: CallableTeacher) -> ScoreAnswer | Failed:
    prompt = score_prompt("src", "text", ANCHORS)
    return teacher.ask(prompt, ScoreAnswer, anchor_check([a.name for a in ANCHORS]))


def score(a: int, b: int, names: tuple[str, str] = ("clarity", "correctness")) -> str:
    return (
        '{"scores": ['
        f'{{"anchor": "{names[0]}", "score": {a}, "rationale": "r"}}, '
        f'{{"anchor": "{names[1]}", "score": {b}, "rationale": "r"}}]}}'
    )


def test_ok_first_try() -> None:
    t, seen = scripted([score(1, 2)])
    assert isinstance(_ask(t), ScoreAnswer)
    assert t.stats.as_dict()["ok"] == 1
    assert seen[0].temperature == 0.0


def test_anchor_names_mapped_case_insensitively_and_unknown_dropped() -> None:
    extra = ', {"anchor": "vibes", "score": 5, "rationale": "r"}]}'
    raw = score(3, 4, ("Clarity", "CORRECTNESS"))[:-2] + extra
    t, _ = scripted([raw])
    ans = _ask(t)
    assert isinstance(ans, ScoreAnswer)
    assert ans.by_anchor() == {"clarity": 3, "correctness": 4}
    assert t.stats.as_dict()["repaired"] == 1


def test_missing_anchor_is_retried_then_succeeds() -> None:
    missing = '{"scores": [{"anchor": "clarity", "score": 1, "rationale": "r"}]}'
    t, seen = scripted([missing, score(1, 2)])
    assert isinstance(_ask(t), ScoreAnswer)
    stats = t.stats.as_dict()
    assert stats["retried"] == 1 and stats["error_missing_anchors"] == 1
    assert stats["requests"] == 2
    assert seen[1].temperature > 0 and seen[1].seed != seen[0].seed  # a retry samples


def test_missing_anchor_never_invented() -> None:
    missing = '{"scores": [{"anchor": "clarity", "score": 1, "rationale": "r"}]}'
    t, _ = scripted([missing] * 3)
    ans = _ask(t)
    assert isinstance(ans, Failed) and ans.reason == "missing_anchors"
    stats = t.stats.as_dict()
    assert stats["failed"] == 1 and stats["requests"] == 3  # 1 try + 2 retries, bounded


def test_out_of_range_is_failed_not_clamped() -> None:
    t, _ = scripted([score(9, 2)] * 3)
    ans = _ask(t)
    assert isinstance(ans, Failed) and ans.reason == "out_of_range"


def test_backend_error_counted() -> None:
    t, _ = scripted(["", "", ""])
    ans = _ask(t)
    assert isinstance(ans, Failed) and ans.reason == "backend_error"
    assert t.stats.as_dict()["error_backend_error"] == 3


def test_batch_keeps_order_and_retries_only_failures() -> None:
    answers = iter([score(1, 1), "garbage", score(3, 3), score(2, 2)])
    calls: list[int] = []

    def fn(prompt: Prompt, sampling: Sampling) -> str:
        calls.append(1)
        return next(answers)

    t = CallableTeacher(fn, max_retries=1)
    prompts = [score_prompt("s", f"t{i}", ANCHORS) for i in range(3)]
    out = t.ask_many(prompts, ScoreAnswer, anchor_check(["clarity", "correctness"]))
    assert [o.by_anchor()["clarity"] for o in out if isinstance(o, ScoreAnswer)] == [1, 2, 3]
    assert len(calls) == 4
