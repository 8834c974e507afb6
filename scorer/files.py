"""A file source: yield ``(origin, raw bytes)`` records from JSONL or Parquet files.

Each record is validated later by scorer/validate.py; here nothing is parsed or dropped.  JSONL
lines keep their original bytes (origin ``file:line``); a Parquet row becomes the JSON object of its
columns (origin ``file:row``, 1-based).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def iter_records(path: Path) -> Iterator[tuple[str, bytes]]:
    """Records of one file, in order; blank JSONL lines are skipped (they carry no record)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from _parquet(path)
        return
    opener = _gzip_open if name.endswith(".gz") else _plain_open
    with opener(path) as fh:
        for n, line in enumerate(fh, 1):
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                yield f"{path}:{n}", raw


def _plain_open(path: Path):  # type: ignore[no-untyped-def]
    return path.open("rb")


def _gzip_open(path: Path):  # type: ignore[no-untyped-def]
    import gzip

    return gzip.open(path, "rb")


def _parquet(path: Path) -> Iterator[tuple[str, bytes]]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for rec in batch.to_pylist():
            row += 1
            yield f"{path}:{row}", json.dumps(rec, default=str, ensure_ascii=False).encode()
