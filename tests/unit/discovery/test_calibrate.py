"""The per-source pre-cut measured at calibration: ratios, and what the cut costs the student."""

from __future__ import annotations

import pytest

from discovery.export.calibrate import chars_per_token, token_loss
from mira.contracts import Document
from mira.engine.tokenize import BatchTokenizer
from tests.integration.streaming.tiny_repo import tokenizer_json

PROSE = "The quick brown fox jumps over the lazy dog while the cat sleeps. " * 40
CODE = "def f(x):\n    return {'a': [x, x + 1], 'b': x ** 2}  # ok\n" * 40


@pytest.fixture(scope="module")
def tok() -> BatchTokenizer:
    return BatchTokenizer(tokenizer_json(), 64, 2048)


def _docs() -> list[Document]:
    return [
        Document(id=f"{s}{i}", source=s, text=t[i:])
        for s, t in (("prose", PROSE), ("code", CODE))
        for i in range(0, 40, 4)
    ]


def test_ratio_per_source(tok: BatchTokenizer) -> None:
    per, default = chars_per_token(_docs(), tok)
    assert set(per) == {"prose", "code"}
    assert per["code"] < per["prose"]  # code has more tokens per character
    assert min(per.values()) <= default <= max(per.values())


def test_measured_cut_loses_nothing(tok: BatchTokenizer) -> None:
    docs = _docs()
    per, default = chars_per_token(docs, tok)
    assert token_loss(docs, tok, per, default, 1.3) == (0.0, 0.0)


def test_too_short_a_cut_is_measured(tok: BatchTokenizer) -> None:
    docs = _docs()
    changed, lost = token_loss(docs, tok, {"prose": 1.0, "code": 1.0}, 1.0, 1.0)
    assert changed == 1.0  # 64 characters never hold 64 tokens here
    assert 0.3 < lost < 1.0
