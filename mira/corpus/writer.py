"""Write documents to JSONL (always available) or Parquet (needs pyarrow), atomically.

JSONL lines are ``json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``:
stable, so equal inputs give byte-identical files.  Parquet has columns id, source, text and meta
(meta as a JSON string, the same serialisation).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mira.contracts import Document

PARQUET_BATCH = 1000


class WriterError(RuntimeError):
    """The output cannot be written (e.g. Parquet requested without pyarrow)."""


def dumps_document(doc: Document) -> str:
    """The stable one-line JSON form of a document (no trailing newline)."""
    return json.dumps(
        doc.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def write_documents(docs: Iterable[Document], out: Path) -> int:
    """Write all documents to ``out`` (format from its suffix); return how many were written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        count = _write_parquet(docs, tmp) if out.suffix == ".parquet" else _write_jsonl(docs, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_jsonl(docs: Iterable[Document], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(dumps_document(doc) + "\n")
            count += 1
    return count


def _write_parquet(docs: Iterable[Document], path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise WriterError("writing .parquet needs pyarrow (pip install 'mira[stream]')") from None
    schema = pa.schema(
        [("id", pa.string()), ("source", pa.string()), ("text", pa.string()), ("meta", pa.string())]
    )
    count = 0
    rows: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, schema) as writer:
        for doc in docs:
            rows.append(
                {
                    "id": doc.id,
                    "source": doc.source,
                    "text": doc.text,
                    "meta": json.dumps(
                        doc.meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")
                    ),
                }
            )
            count += 1
            if len(rows) >= PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows or count == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    return count
