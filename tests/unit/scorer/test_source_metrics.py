"""The per-source decision counter: bounded labels (manifest sources plus _unknown)."""

from __future__ import annotations

from types import SimpleNamespace

from mira import metrics
from mira.contracts import MiraVerdict, RepositoryManifest, ScoredDocument
from scorer.delivery import Entry, count_delivered
from scorer.messages import UNKNOWN_SOURCE, OutputTopics, scored, source_label

MANIFEST = RepositoryManifest.model_validate(
    {
        "groups": {
            "code": {
                "model": "mira_code",
                "version": 1,
                "anchors": ["a"],
                "weights": [1.0],
                "rubric_version": "r1",
            }
        },
        "source_groups": {"src_a": "code"},
        "fallback_group": "code",
        "thresholds": {"src_a": 2.0, "src_t": 2.5},
        "budget": 0.5,
        "tokenizer": "tokenizer.json",
        "max_length": 64,
        "max_chars": 256,
    }
)


def _doc(source: str, decision: str) -> ScoredDocument:
    verdict = MiraVerdict(
        group="code",
        score=3.0,
        anchors={"a": 3.0},
        threshold=2.0,
        decision=decision,
        model="mira_code",
        model_version=1,  # type: ignore[arg-type]
        rubric_version="r1",
    )
    return ScoredDocument(id=f"{source}-{decision}", source=source, text="x", mira=verdict)


def _count(source: str, decision: str) -> float:
    return metrics.DOCS_BY_SOURCE.labels(source, decision)._value.get()  # type: ignore[no-any-return]


def test_sources_outside_the_manifest_share_one_label() -> None:
    assert source_label("src_a", MANIFEST) == "src_a"
    assert source_label("src_t", MANIFEST) == "src_t"  # a threshold names it
    assert source_label("anything/else", MANIFEST) == UNKNOWN_SOURCE


def test_delivered_decisions_are_counted_by_source() -> None:
    topics = OutputTopics("acc", "rej", "dlq")
    record = SimpleNamespace(key=b"k", topic="in", partition=0, offset=1, timestamp=0, headers=None)
    before = {k: _count(*k) for k in [("src_a", "accept"), ("_unknown", "reject")]}
    docs = [_doc("src_a", "accept"), _doc("src_a", "accept"), _doc("new-source", "reject")]
    outs = [scored(record, d, topics, source_label(d.source, MANIFEST)) for d in docs]
    count_delivered([Entry(i, m) for i, m in enumerate(outs)])
    assert _count("src_a", "accept") - before[("src_a", "accept")] == 2
    assert _count("_unknown", "reject") - before[("_unknown", "reject")] == 1
