"""The builder on this machine's real files (the ``small_corpus`` fixture and a 5,000-doc build)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mira.contracts import Document
from mira.corpus.kinds import KIND_BY_PREFIX
from mira.corpus.sources import _walk
from tests.fixtures.corpus import MIN_SOURCES, build_small_corpus

META_KEYS = {
    "kind",
    "origin",
    "part",
    "package",
    "license",
    "license_file",
    "bytes",
    "approx_tokens",
    "truncated",
    "orig_bytes",
}


def _docs(path: Path) -> list[Document]:
    with path.open(encoding="utf-8") as fh:
        return [Document.model_validate(json.loads(line)) for line in fh]


@pytest.mark.slow  # builds real data / runs the encoder: make test, not make check
def test_small_corpus_is_valid_balanced_and_sourced(small_corpus: Path) -> None:
    docs = _docs(small_corpus)
    assert len(docs) == 600
    assert len({d.id for d in docs}) == 600
    per_source = Counter(d.source for d in docs)
    assert len(per_source) >= MIN_SOURCES
    assert {d.meta["kind"] for d in docs} == set(KIND_BY_PREFIX.values())
    big = [n for n in per_source.values() if n >= 20]
    assert len(big) >= MIN_SOURCES - 3, per_source  # round-robin: all but tiny sources ~equal
    for doc in docs:
        assert set(doc.meta) == META_KEYS
        assert doc.meta["bytes"] == len(doc.text.encode("utf-8"))
        assert doc.meta["origin"] and doc.text.strip()
        assert doc.id.startswith(doc.source + "-")


@pytest.mark.slow  # builds real data / runs the encoder: make test, not make check
def test_same_seed_gives_byte_identical_output(small_corpus: Path, tmp_path: Path) -> None:
    _walk.cache_clear()  # list the files again from disk
    again = build_small_corpus(tmp_path / "again.jsonl")
    assert again.read_bytes() == small_corpus.read_bytes()


@pytest.mark.slow
def test_5000_docs_cover_at_least_21_sources(tmp_path: Path) -> None:
    out = build_small_corpus(tmp_path / "big.jsonl", max_docs=5000, seed=3)
    docs = _docs(out)
    assert len(docs) == 5000
    assert len({d.source for d in docs}) >= MIN_SOURCES
