"""Repair / reject rules of teacher answers (no model: canned strings)."""

from __future__ import annotations

import pytest

from discovery.teacher.parse import AnswerError, parse_answer
from mira.contracts import ProposalAnswer, ScoreAnswer

GOOD = '{"scores": [{"anchor": "clarity", "score": 4, "rationale": "clear"}]}'


def test_valid_answer_is_not_repaired() -> None:
    p = parse_answer(GOOD, ScoreAnswer)
    assert not p.repaired
    assert p.value.by_anchor() == {"clarity": 4}


@pytest.mark.parametrize(
    ("raw", "repair"),
    [
        ("```json\n" + GOOD + "\n```", "code_fence"),
        ("Sure! Here it is: " + GOOD + " Hope this helps.", "extracted"),
        (
            '{"scores": [{"anchor": "clarity", "score": 4, "rationale": "clear"},]}',
            "trailing_comma",
        ),
        ('{"scores": [{"anchor": "clarity", "score": "4", "rationale": "clear"}]}', "coerced"),
        ('{"scores": [{"anchor": "clarity", "score": 4.0, "rationale": "clear"}]}', "coerced"),
    ],
)
def test_repairs(raw: str, repair: str) -> None:
    p = parse_answer(raw, ScoreAnswer)
    assert p.repaired
    assert repair in p.repairs
    assert p.value.by_anchor() == {"clarity": 4}


def test_truncated_answer_is_closed_when_what_is_left_validates() -> None:
    raw = (
        '{"scores": [{"anchor": "a", "score": 1, "rationale": "x"}, '
        '{"anchor": "b", "score": 2, "rationale": "cut mid-sen'
    )
    p = parse_answer(raw, ScoreAnswer)
    assert "truncated" in p.repairs
    assert p.value.by_anchor() == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("I cannot rate this document.", "no_json"),
        ("", "no_json"),
        ('{"scores": [{"anchor": "a", "score": 7, "rationale": "x"}]}', "out_of_range"),
        ('{"scores": [{"anchor": "a", "score": -1, "rationale": "x"}]}', "out_of_range"),
        ('{"scores": [{"anchor": "a", "score": "high", "rationale": "x"}]}', "wrong_type"),
        ('{"scores": [{"anchor": "a", "score": 2.5, "rationale": "x"}]}', "wrong_type"),
        ('{"scores": [{"anchor": "a", "rationale": "x"}]}', "missing_field"),
        ('{"scores": "none"}', "wrong_type"),
        ("{'scores': [1, 2]}", "invalid_json"),
    ],
)
def test_rejects(raw: str, reason: str) -> None:
    with pytest.raises(AnswerError) as err:
        parse_answer(raw, ScoreAnswer)
    assert err.value.reason == reason


def test_proposal_schema_limits() -> None:
    raw = '{"dimensions": [{"name": "x", "description": "short", "high": "h", "low": "l"}]}'
    with pytest.raises(AnswerError) as err:  # name shorter than 2 characters
        parse_answer(raw, ProposalAnswer)
    assert err.value.reason == "wrong_type"


@pytest.mark.parametrize(
    "raw",
    [
        # an object closed too early, its last keys left in the list (seen from SmolLM2)
        '{"dimensions": [{"name": "style", "description": "is a good way", "high": "good"}, '
        '"description": "is it tidy", "low": "messy"}]}',
        # a list closed with the wrong bracket
        '{"dimensions": [{"name": "style", "description": "is it tidy", "high": "good", '
        '"low": "messy"}}}',
    ],
)
def test_bracket_repairs(raw: str) -> None:
    p = parse_answer(raw, ProposalAnswer)
    assert "brackets" in p.repairs
    assert p.value.dimensions[0].low == "messy"


def test_brackets_inside_strings_are_left_alone() -> None:
    raw = '{"scores": [{"anchor": "a", "score": 1, "rationale": "uses {x] and \\"q}\\""}]}'
    p = parse_answer(raw, ScoreAnswer)
    assert not p.repaired and p.value.scores[0].rationale == 'uses {x] and "q}"'
