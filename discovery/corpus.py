"""The corpus as discovery sees it: documents by source (through the one reader and admission),
and deterministic source-balanced samples of them."""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mira.contracts import Document
from mira.engine.admit import Invalid, admit
from mira.reader import read_records
from mira.settings import DocumentSettings

log = logging.getLogger(__name__)


@dataclass
class Corpus:
    """Valid documents by source (sources sorted) and what admission refused, by reason."""

    by_source: dict[str, list[Document]]
    refused: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, source: str) -> list[Document]:
        return self.by_source[source]

    def sources(self) -> list[str]:
        return list(self.by_source)


def load_corpus(inputs: Iterable[Path | str], limits: DocumentSettings) -> Corpus:
    """Every record of ``inputs``; refused ones are counted by reason and logged, never fatal."""
    docs: dict[str, list[Document]] = defaultdict(list)
    refused: Counter[str] = Counter()
    for rec in read_records(inputs, limits.max_bytes):
        doc = admit(rec.raw, limits, rec.size)
        if isinstance(doc, Invalid):
            refused[doc.reason.value] += 1
            if sum(refused.values()) <= 20:
                log.warning("corpus: skipping %s: %s %s", rec.origin, doc.reason.value, doc.detail)
            continue
        docs[doc.source].append(doc)
    if refused:
        log.warning("corpus: %d records refused: %s", sum(refused.values()), dict(refused))
    return Corpus({s: docs[s] for s in sorted(docs)}, refused)


def balanced(
    docs_by_source: Mapping[str, Sequence[Document]],
    sources: Sequence[str],
    n: int,
    seed: int,
    salt: str,
) -> list[Document]:
    """Up to ``n`` non-empty documents, taken round-robin over ``sources`` (shuffled per source
    with a seed derived from (seed, salt, source)); output sorted by (source, id)."""
    pools: list[list[Document]] = []
    for src in sorted(sources):
        pool = sorted(
            (d for d in docs_by_source.get(src, ()) if d.text.strip()), key=lambda d: d.id
        )
        random.Random(f"{seed}:{salt}:{src}").shuffle(pool)
        pools.append(pool)
    picked: list[Document] = []
    depth = 0
    while len(picked) < n and any(depth < len(p) for p in pools):
        for pool in pools:
            if depth < len(pool) and len(picked) < n:
                picked.append(pool[depth])
        depth += 1
    return sorted(picked, key=lambda d: (d.source, d.id))
