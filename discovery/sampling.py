"""Deterministic, source-balanced samples of a group's documents."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from mira.contracts import Document


def balanced(docs_by_source: Mapping[str, Sequence[Document]], sources: Sequence[str], n: int,
             seed: int, salt: str) -> list[Document]:
    """Up to ``n`` non-empty documents, taken round-robin over ``sources`` (shuffled per source
    with a seed derived from (seed, salt, source)); output sorted by (source, id)."""
    pools: list[list[Document]] = []
    for src in sorted(sources):
        pool = sorted((d for d in docs_by_source.get(src, ()) if d.text.strip()),
                      key=lambda d: d.id)
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
