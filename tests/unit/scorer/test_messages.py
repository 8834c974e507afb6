"""Scored outputs: the input's own bytes plus the verdict, equal to the ScoredDocument."""

from __future__ import annotations

import json

import pytest

from mira.contracts import Document, MiraVerdict, ScoredDocument
from scorer.messages import scored_value

VERDICT = MiraVerdict(
    group="code",
    score=3.25,
    anchors={"a": 3.0, "b": 3.5},
    threshold=3.0,
    decision="accept",
    model="mira_code",
    model_version=2,
    rubric_version="r1",
)


def _scored(raw: bytes) -> ScoredDocument:
    doc = Document.model_validate_json(raw)
    return ScoredDocument.model_construct(**dict(doc), mira=VERDICT)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "d1", "source": "s", "text": "x \\u00e9 \\ud83d\\ude00 \\"q\\"", '
        b'"meta": {"n": 1}}',
        b'{"id":"d2","source":"s","text":"t"}\n  ',
        b' {"text": "t", "id": "d3", "source": "s", "meta": {"nested": {"deep": [1, 2.5, null]}}} ',
    ],
)
def test_the_input_bytes_plus_the_verdict(raw: bytes) -> None:
    doc = _scored(raw)
    value = scored_value(raw, doc)
    assert value.startswith(raw.strip()[:-1])  # the text is not re-encoded
    assert ScoredDocument.model_validate_json(value) == ScoredDocument.model_validate(
        json.loads(doc.model_dump_json())
    )
    assert json.loads(value)["mira"] == VERDICT.model_dump()


def test_without_input_bytes_the_document_is_serialised() -> None:
    doc = _scored(b'{"id": "d", "source": "s", "text": "t"}')
    assert json.loads(scored_value(None, doc)) == json.loads(doc.model_dump_json())
