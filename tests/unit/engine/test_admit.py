"""Admission: any bytes in, a Document or a stable reason code out; it never raises."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.contracts import REASON_DOCS, DeadLetterReason, Document
from mira.engine.admit import Invalid, admit
from mira.settings import DocumentSettings
from tests.fixtures.hostile import hostile_cases

LIMITS = DocumentSettings()
CASES = hostile_cases("s1", LIMITS.max_bytes)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_hostile_class_gets_its_reason(case: object) -> None:
    out = admit(case.raw, LIMITS)  # type: ignore[attr-defined]
    got = out.reason if isinstance(out, Invalid) else None
    assert got == case.reason, getattr(out, "detail", "")  # type: ignore[attr-defined]
    if isinstance(out, Invalid):
        assert out.detail and len(out.detail) < 600


def test_the_hostile_corpus_covers_at_least_20_classes_and_every_admission_reason() -> None:
    assert len({c.name for c in CASES}) >= 20
    admission = set(DeadLetterReason) - {
        DeadLetterReason.UNKNOWN_SOURCE,
        DeadLetterReason.NO_THRESHOLD,
        DeadLetterReason.TOKENIZE_FAILED,
        DeadLetterReason.INFERENCE_FAILED,
        DeadLetterReason.OUTPUT_TOO_LARGE,
    }
    assert admission <= {c.reason for c in CASES}
    assert set(REASON_DOCS) == set(DeadLetterReason)


def test_size_of_a_record_cut_by_the_reader_decides_too_large() -> None:
    raw = json.dumps({"id": "a", "source": "s", "text": "x"}).encode()
    out = admit(raw, LIMITS, size=LIMITS.max_bytes + 10)
    assert isinstance(out, Invalid) and out.reason is DeadLetterReason.TOO_LARGE


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    out = admit(raw, LIMITS)
    assert isinstance(out, Document | Invalid)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["id", "source", "text", "meta", "x"]), _JSONISH, max_size=5)
)
def test_arbitrary_json_objects_never_raise(obj: dict[str, object]) -> None:
    out = admit(json.dumps(obj).encode(), LIMITS)
    assert isinstance(out, Document | Invalid)


_NAME = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(_NAME, _NAME, st.text(min_size=1).filter(lambda t: t.strip() and "\x00" not in t))
def test_valid_documents_are_admitted_unchanged(doc_id: str, source: str, text: str) -> None:
    raw = json.dumps({"id": doc_id, "source": source, "text": text, "meta": {"k": [1]}}).encode()
    out = admit(raw, LIMITS)
    assert isinstance(out, Document), getattr(out, "detail", "")
    assert (out.id, out.source, out.text, out.meta) == (doc_id, source, text, {"k": [1]})


def test_the_deepest_admitted_meta_still_serializes_as_a_scored_output() -> None:
    from mira.contracts import MiraVerdict, ScoredDocument

    raw = (
        b'{"id": "a", "source": "s", "text": "t", "meta": '
        + b'{"a": ' * 199
        + b"1"
        + b"}" * 199
        + b"}"
    )
    doc = admit(raw, LIMITS)
    assert isinstance(doc, Document)
    verdict = MiraVerdict(
        group="g",
        score=1.0,
        anchors={},
        threshold=1.0,
        decision="accept",
        model="m",
        model_version=1,
        rubric_version="r",
    )
    ScoredDocument(**doc.model_dump(), mira=verdict).model_dump_json()
    deeper = raw.replace(b'"meta": ', b'"meta": {"b": ')[:-1] + b"}}"
    out = admit(deeper, LIMITS)
    assert isinstance(out, Invalid) and out.reason is DeadLetterReason.TOO_DEEP
