"""Grouping (k-means over source centroids, pins, names) and rubric clustering rules."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.corpus import balanced
from discovery.grouping.cluster import build_grouping, name_groups
from discovery.rubrics.cluster import build_anchors, choose_k, content_version, snake
from mira.contracts import Document, GroupingArtifact, ProposedDimension


def _emb(direction: int, n: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = np.zeros((n, 8))
    v[:, direction] = 1.0
    return v + rng.normal(0, 0.05, v.shape)


EMB = {"code_python": _emb(0), "code_c": _emb(0, seed=1), "docs_man": _emb(1),
       "docs_md": _emb(1, seed=2), "qa_faq": _emb(2)}


def test_given_k_groups_and_similarities() -> None:
    art = build_grouping(EMB, k=3, seed=0)
    GroupingArtifact.model_validate(art.model_dump())
    assert art.source_to_group() == {"code_python": "code", "code_c": "code", "docs_man": "docs",
                                     "docs_md": "docs", "qa_faq": "qa"}
    code = next(g for g in art.groups if g.name == "code")
    assert code.intra_similarity > 0.9
    assert art.inter_similarity["code"]["docs"] < 0.3
    assert art.k_selection == "given"


def test_silhouette_chooses_k() -> None:
    art = build_grouping(EMB, k=None, k_range=(2, 4), seed=0)
    assert art.k == 3 and art.k_selection == "silhouette" and art.silhouette is not None


def test_pin_moves_a_source() -> None:
    art = build_grouping(EMB, k=3, pins={"qa_faq": "docs"}, seed=0)
    docs = next(g for g in art.groups if g.name == "docs")
    assert "qa_faq" in docs.sources and docs.pinned == ["qa_faq"]
    with pytest.raises(ValueError, match="group names"):
        build_grouping(EMB, k=3, pins={"qa_faq": "Bad-Name"})


def test_names_are_unique_and_valid() -> None:
    assert name_groups([["code_a"], ["code_b", "code_c"], ["9x"]]) == ["code_2", "code", "g"]


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
