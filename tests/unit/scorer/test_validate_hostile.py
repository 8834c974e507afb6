"""Hostile documents are dead-lettered by parse_document, never raised (security review)."""

from __future__ import annotations

import pytest

from mira.contracts import DeadLetterReason, Document
from scorer.validate import MAX_NESTING, Invalid, parse_document


def _meta_nested(levels: int) -> bytes:
    return (b'{"id": "x", "source": "s", "text": "t", "meta": {"a": '
            + b"[" * levels + b"]" * levels + b"}}")


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
                                 _meta_nested(300)])
def test_deep_nesting_is_invalid_json_not_an_exception(raw: bytes) -> None:
    got = parse_document(raw, 10 * 1024 * 1024)
    assert isinstance(got, Invalid) and got.reason is DeadLetterReason.INVALID_JSON


def test_nesting_up_to_the_limit_is_scored_and_serializes_again() -> None:
    doc = parse_document(_meta_nested(MAX_NESTING - 2), 1024 * 1024)  # + the object and meta
    assert isinstance(doc, Document)
    doc.model_dump_json()  # the scored output is serialized: this must not raise
    assert isinstance(parse_document(_meta_nested(MAX_NESTING - 1), 1024 * 1024), Invalid)
