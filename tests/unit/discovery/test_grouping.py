"""Source grouping: line kinds, format features, source vectors, Ward + silhouette, names, pins."""

from __future__ import annotations

import json

import numpy as np
import pytest

from discovery.grouping.cluster import build_grouping, name_groups
from discovery.grouping.features import CONCEPTS, FEATURE_NAMES, feature_dict, features
from discovery.grouping.lines import kind_shares, line_kind, role_name, role_shares
from discovery.grouping.represent import format_part, source_vectors, topic_part
from mira.contracts import GroupingArtifact

PY = '''import os


def walk(root, depth=0):
    """Yield files below root."""
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.isdir(path):
            yield from walk(path, depth + 1)
        else:
            yield path
'''
C = """/* Copyright (C) the authors. */
#include <stddef.h>

struct node {
    struct node *next;
    int value;
};

static int sum(const struct node *n) {
    int total = 0;
    for (; n; n = n->next) total += n->value;
    return total;
}
"""
PROSE = """Working with files
==================

The module provides a portable way of using operating system dependent functionality. If you
just want to read or write a file see the open function, and if you want to manipulate paths,
see the path module.

All functions in this module raise an error when the arguments are not accepted by the
operating system, or when the file cannot be found.
"""
QA = """Q: How do I read a file one line at a time?

A: Open the file and iterate over it. Each step gives you the next line, so you never hold the
whole file in memory. Is there a faster way? Usually not: the file object is already buffered.
"""
NOTEBOOK = """# Plot a histogram

This example draws random numbers and plots how they are spread.

```python
import numpy as np
values = np.random.default_rng(0).normal(size=100)
```

The histogram below shows the spread of the values.

```python
counts, edges = np.histogram(values, bins=10)
print(counts)
```
"""
JSON = json.dumps(
    {
        "name": "pkg",
        "version": "1.0.0",
        "license": "MIT",
        "private": True,
        "files": ["lib", "bin"],
        "engines": {"node": ">=18"},
        "count": 3,
    },
    indent=2,
)


def test_line_kinds() -> None:
    assert line_kind("Q: why?", False) == "qa"
    assert line_kind("x = 1", True) == "fenced"
    assert line_kind(".. autoclass:: Thing", False) == "markup"
    assert line_kind("=====", False) == "markup"
    assert line_kind("    return total;", False) == "code"
    assert line_kind("def walk(root):", False) == "code"
    assert line_kind('  "license": "MIT",', False) == "kv"
    assert line_kind("The module provides a portable way of using it.", False) == "prose"
    assert line_kind("# a comment", False) == "comment"
    assert line_kind("<match target='font'>", False) == "tag"


def test_unclosed_fence_is_not_a_cell() -> None:
    shares = kind_shares(["```python", "x = 1", "y = 2"])
    assert shares["lines_fenced"] == 0.0
    assert kind_shares(["```", "x = 1", "```"])["lines_fenced"] == 1.0


@pytest.mark.parametrize(
    ("text", "role"),
    [
        (PY, "code"),
        (C, "code"),
        (PROSE, "prose"),
        (QA, "qa"),
        (NOTEBOOK, "notebook"),
        (JSON, "config"),
    ],
)
def test_each_format_shows_its_role(text: str, role: str) -> None:
    assert role_name(role_shares(feature_dict(text))) == role


def test_features_are_named_bounded_and_cover_every_concept() -> None:
    rows = features([PY, C, PROSE, QA, NOTEBOOK, JSON, ""])
    assert rows.shape == (7, len(FEATURE_NAMES)) and np.isfinite(rows).all()
    assert sorted(n for names in CONCEPTS.values() for n in names) == sorted(FEATURE_NAMES)
    assert (rows >= 0).all() and rows.max() < 20  # ratios, log lengths, per-100-char counts


def test_every_concept_weighs_the_same() -> None:
    means = np.random.default_rng(0).normal(size=(30, len(FEATURE_NAMES)))
    x = format_part(means)
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    energy = [float((x[:, [index[n] for n in names]] ** 2).sum()) for names in CONCEPTS.values()]
    assert max(energy) == pytest.approx(min(energy), rel=1e-6)


def test_topic_part_is_centred_and_scaled() -> None:
    t = topic_part(np.random.default_rng(1).normal(size=(6, 8)), 0.5)
    assert np.allclose(t.mean(axis=0), 0) and np.sqrt((t**2).sum(1).mean()) == pytest.approx(0.5)


def _corpus_features() -> dict[str, np.ndarray]:
    def variants(text: str, n: int = 4) -> list[str]:
        return [text.replace("the", "a" * (i + 1), i) for i in range(n)]

    return {
        "s_py": features(variants(PY)),
        "s_c": features(variants(C)),
        "s_doc": features(variants(PROSE)),
        "s_doc2": features(variants(PROSE + PROSE)),
        "s_faq": features(variants(QA)),
        "s_json": features(variants(JSON)),
    }


def test_groups_by_format_with_like_for_like_similarities() -> None:
    vec = source_vectors(_corpus_features(), None, 0.0, "")
    art = build_grouping(vec, k=4, k_range=(2, 5))
    GroupingArtifact.model_validate_json(art.model_dump_json())
    groups = art.source_to_group()
    assert groups["s_py"] == groups["s_c"] == "code"
    assert groups["s_doc"] == groups["s_doc2"] == "prose"
    assert groups["s_faq"] == "qa" and groups["s_json"] == "config"
    code = next(g for g in art.groups if g.name == "code")
    assert code.intra_similarity > max(art.inter_similarity["code"].values())
    assert code.profile["code"] > 0.5
    assert set(art.silhouette_by_k) == {2, 3, 4, 5} and art.k_selection == "given"


def test_silhouette_chooses_k_and_pins_move_sources() -> None:
    vec = source_vectors(_corpus_features(), None, 0.0, "")
    art = build_grouping(vec, k=None, k_range=(3, 5), pins={"s_faq": "prose"})
    assert art.k_selection == "silhouette" and 3 <= art.k <= 5
    prose = next(g for g in art.groups if g.name == "prose")
    assert "s_faq" in prose.sources and prose.pinned == ["s_faq"]
    with pytest.raises(ValueError, match="group names"):
        build_grouping(vec, k=3, k_range=(2, 4), pins={"s_faq": "Bad-Name"})


def test_embeddings_join_down_weighted() -> None:
    feats = _corpus_features()
    emb = {s: np.random.default_rng(i).normal(size=(3, 16)) for i, s in enumerate(feats)}
    vec = source_vectors(feats, emb, 0.3, "minilm")
    fmt = np.sqrt((vec.vectors[:, : len(FEATURE_NAMES)] ** 2).sum(1).mean())
    top = np.sqrt((vec.vectors[:, len(FEATURE_NAMES) :] ** 2).sum(1).mean())
    assert top == pytest.approx(0.3 * fmt) and "0.3 x minilm" in vec.description


def test_names_are_unique_and_largest_keeps_the_plain_name() -> None:
    code = {"code": 0.8, "prose": 0.1, "config": 0.1, "qa": 0.0, "notebook": 0.0}
    prose = {"code": 0.1, "prose": 0.8, "config": 0.1, "qa": 0.0, "notebook": 0.0}
    assert name_groups([code, code, prose], [1, 3, 2]) == ["code_2", "code", "prose"]
