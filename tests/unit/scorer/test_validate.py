import json

import pytest

from mira.contracts import DeadLetterReason, Document
from scorer.validate import Invalid, parse_document


def _doc(**kw: object) -> bytes:
    base = {"id": "a", "source": "s", "text": "hello", "meta": {}}
    base.update(kw)
    return json.dumps(base).encode()


def test_valid_document() -> None:
    doc = parse_document(_doc(), 1024)
    assert isinstance(doc, Document) and doc.id == "a"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * 2000, DeadLetterReason.TOO_LARGE),
        (b'{"id": "\xff"}', DeadLetterReason.BAD_UTF8),
        (b"{not json", DeadLetterReason.INVALID_JSON),
        (b"[1, 2]", DeadLetterReason.INVALID_JSON),
        (b'{"id": "a", "source": "s"}', DeadLetterReason.MISSING_FIELD),
        (_doc(text=3), DeadLetterReason.INVALID_FIELD),
        (_doc(id=""), DeadLetterReason.INVALID_FIELD),
        (_doc(extra=1), DeadLetterReason.INVALID_FIELD),
    ],
)
def test_invalid_documents(raw: bytes, reason: DeadLetterReason) -> None:
    out = parse_document(raw, 1024)
    assert isinstance(out, Invalid)
    assert out.reason == reason
    assert out.detail
