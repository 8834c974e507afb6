"""Rubric clustering rules and balanced sampling (grouping: test_grouping.py)."""

from __future__ import annotations

import numpy as np

from discovery.corpus import balanced
from discovery.rubrics.cluster import build_anchors, choose_k, content_version, snake
from mira.contracts import Document, ProposedDimension


def _p(name: str) -> ProposedDimension:
    return ProposedDimension(name=name, description=f"about {name}", high="good", low="bad")


def test_anchor_count_rule_and_names() -> None:
    props = [_p("Clarity"), _p("clarity"), _p("Correct code"), _p("correct_code")]
    assert choose_k(props, 15) == 2 and choose_k(props, 1) == 1
    vecs = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], dtype=float)
    anchors = build_anchors(props, vecs, np.array([0, 0, 1, 1]))
    assert [a.name for a in anchors] == ["clarity", "correct_code"]
    assert anchors[0].size == 2 and sorted(anchors[0].proposals) == ["Clarity", "clarity"]
    assert snake("9 lives!") == "a_9_lives" and snake("***") == "anchor"
    v1 = content_version("g", "t", "p", ["d1"], anchors)
    assert v1 == content_version("g", "t", "p", ["d1"], anchors)
    assert v1 != content_version("g", "t", "p", ["d2"], anchors)


def test_balanced_sample_is_deterministic_and_round_robin() -> None:
    docs = {s: [Document(id=f"{s}{i}", source=s, text="x") for i in range(5)] for s in "ab"}
    docs["a"].append(Document(id="empty", source="a", text="  "))
    one = balanced(docs, ["a", "b"], 4, 0, "salt")
    assert one == balanced(docs, ["a", "b"], 4, 0, "salt")
    assert [d.source for d in one] == ["a", "a", "b", "b"]
    assert all(d.id != "empty" for d in balanced(docs, ["a"], 10, 0, "s"))
