"""Read a corpus file (JSONL or Parquet of Document v1) and draw deterministic samples."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from mira.contracts import Document

log = logging.getLogger(__name__)


class CorpusError(ValueError):
    """A corpus record that is not a Document v1 (carries file and line/row)."""


def read_documents(path: Path) -> Iterator[Document]:
    """Yield documents; a malformed record raises CorpusError naming its line (or row)."""
    if path.suffix == ".parquet":
        yield from _read_parquet(path)
        return
    with path.open("r", encoding="utf-8", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield Document.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                first = str(exc).splitlines()[0]
                raise CorpusError(f"{path}:{lineno}: not a Document v1: {first}") from None


def _read_parquet(path: Path) -> Iterator[Document]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches():
        for rec in batch.to_pylist():
            row += 1
            if isinstance(rec.get("meta"), str):
                rec["meta"] = json.loads(rec["meta"] or "{}")
            rec["meta"] = rec.get("meta") or {}
            try:
                yield Document.model_validate(rec)
            except ValidationError as exc:
                first = str(exc).splitlines()[0]
                raise CorpusError(f"{path}: row {row}: not a Document v1: {first}") from None


def by_source(path: Path) -> dict[str, list[Document]]:
    """All documents of the corpus, grouped by source (sources sorted)."""
    out: dict[str, list[Document]] = defaultdict(list)
    for doc in read_documents(path):
        out[doc.source].append(doc)
    return {s: out[s] for s in sorted(out)}
