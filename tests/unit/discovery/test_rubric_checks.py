"""Proposals that are not real dimensions (the junk SmolLM2 produced) never become anchors."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.rubrics.checks import REASONS, anchor_problem, problem, readable_name, split
from discovery.rubrics.cluster import build_anchors
from mira.contracts import Anchor, ProposedDimension


def _p(
    name: str,
    description: str = "how easy the explanation is to follow",
    high: str = "clear steps in order",
    low: str = "confusing jumps",
) -> ProposedDimension:
    return ProposedDimension(name=name, description=description, high=high, low=low)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("low_high_low", "schema_echo"),
        ("low_low", "schema_echo"),
        ("high_description", "schema_echo"),
        ("low_4", "schema_echo"),
        ("quality", "schema_echo"),
        ("Name", "schema_echo"),
        ("high}, {'description':", "template_leak"),
        ("clarity_2", "unreadable_name"),
        ("x9", "unreadable_name"),
        ("zzzz", "unreadable_name"),
        ("a b c d e f", "unreadable_name"),
    ],
)
def test_junk_names_are_rejected_with_their_reason(name: str, reason: str) -> None:
    assert problem(_p(name)) == reason


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"description": "the high and low quality of the document"}, "empty"),
        ({"description": "clarity"}, "empty"),
        ({"high": "high", "low": "low"}, "empty"),
        ({"high": "clear steps", "low": "Clear steps"}, "empty"),
        ({"description": 'clarity", "high": "good'}, "template_leak"),
        ({"low": '{"description": "x"}'}, "template_leak"),
    ],
)
def test_fields_without_content_are_rejected(kw: dict[str, str], reason: str) -> None:
    assert problem(_p("clarity", **kw)) == reason


@pytest.mark.parametrize(
    "name",
    ["clarity", "code correctness", "Documentation-Coverage", "example_quality", "readable_names"],
)
def test_real_dimensions_pass(name: str) -> None:
    assert problem(_p(name)) is None and readable_name(name)


def test_split_counts_by_reason_and_keeps_order() -> None:
    good = [_p("clarity"), _p("correctness", "whether the code runs without errors")]
    valid, invalid = split([_p("low_low"), good[0], _p("x9"), good[1], _p("low_high_low")])
    assert valid == good
    assert invalid == {"schema_echo": 2, "unreadable_name": 1}
    assert set(invalid) <= set(REASONS)


def test_anchor_names_stay_readable_when_clusters_share_a_name() -> None:
    props = [_p("clarity"), _p("clarity"), _p("clarity"), _p("readability")]
    vecs = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], dtype=float)
    anchors = build_anchors(props, vecs, np.array([0, 0, 1, 1]))
    assert [a.name for a in anchors] == ["clarity", "readability"]
    dup = build_anchors(props[:3], vecs[:3], np.array([0, 0, 1]))
    assert [a.name for a in dup] == ["clarity"]  # no "clarity_2"
    assert all(anchor_problem(a) is None for a in anchors)


def test_anchor_problem_uses_the_same_rules() -> None:
    bad = Anchor(name="low_high_low", description="the quality", high=["high"], low=["low"])
    assert anchor_problem(bad) == "schema_echo"


def test_schema_words_cover_the_proposal_prompt() -> None:
    import re

    from discovery.rubrics.checks import _STOP, SCHEMA_WORDS
    from discovery.teacher import prompts

    template = prompts._PROPOSE.replace("{source}", "").replace("{text}", "").replace("{n}", "")
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", template) if len(w) >= 3}
    assert words - SCHEMA_WORDS - _STOP == set()


@pytest.mark.parametrize(
    "name",
    [
        "perl_perl_vspam",
        "dudayjkdjjdudjj",
        "idemlibalitias_x",
        "remainderlfldf",
        "high_high_high_high",
    ],
)
def test_gibberish_names_are_unreadable(name: str) -> None:
    assert not readable_name(name)


@pytest.mark.parametrize(
    "name", ["configurability", "reproducibility", "lengths", "idiomatic_usage", "conciseness"]
)
def test_long_real_words_stay_readable(name: str) -> None:
    assert readable_name(name)
