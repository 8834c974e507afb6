"""Suggested group of each source (data only: ``meta.kind``; discovery groups by embeddings).

A source slug starts with its kind prefix: ``code_python`` is code, ``qa_perlfaq`` is Q&A.
"""

from __future__ import annotations

KIND_BY_PREFIX: dict[str, str] = {
    "code": "code",
    "docs": "docs",
    "nb": "notebook",
    "qa": "qa",
    "config": "config",
}
UNKNOWN_KIND = "other"


def kind_of(source: str) -> str:
    """The suggested group of a source slug (``other`` for an unknown prefix)."""
    return KIND_BY_PREFIX.get(source.split("_", 1)[0], UNKNOWN_KIND)
