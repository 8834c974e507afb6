"""The one reader: JSONL (plain or gzip), Parquet, directories and stdin -> raw records.

Every input row becomes a :class:`RawRecord` (origin ``file:line`` or ``file:row``, the bytes,
the full size): nothing is parsed, judged or dropped here, blank lines included; admission
(``mira.engine.admit``) turns each record into a Document or a dead letter.  Lines longer than
``max_bytes`` are never held whole in memory: the first ``max_bytes + 1`` bytes are kept and the
rest is only counted.  Parquet rows pass through one adapter, :func:`row_bytes`.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".parquet")
_CHUNK = 1 << 20


class _LineStream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class RawRecord:
    origin: str
    raw: bytes
    size: int  # bytes of the whole record (> len(raw) when it was cut at the limit)


def read_records(
    inputs: Iterable[Path | str], max_bytes: int, stdin: IO[bytes] | None = None
) -> Iterator[RawRecord]:
    """Records of every input in order; ``-`` is stdin, a directory is read recursively."""
    for item in inputs:
        if str(item) == "-":
            if stdin is None:
                raise ValueError("'-' given but no stdin stream")
            yield from read_lines(stdin, "<stdin>", max_bytes)
            continue
        path = Path(item)
        for file in corpus_files(path) if path.is_dir() else [path]:
            yield from read_file(file, max_bytes)


def corpus_files(directory: Path) -> list[Path]:
    """The JSONL and Parquet files under ``directory`` (recursive, sorted); none is an error."""
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)
    )
    if not files:
        raise FileNotFoundError(f"no .jsonl, .jsonl.gz or .parquet files under {directory}")
    return files


def read_file(path: Path, max_bytes: int) -> Iterator[RawRecord]:
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from read_parquet(path)
        return
    with gzip.open(path, "rb") if name.endswith(".gz") else path.open("rb") as fh:
        yield from read_lines(fh, str(path), max_bytes)


def read_lines(stream: _LineStream, origin: str, max_bytes: int) -> Iterator[RawRecord]:
    """One record per line (``\\n`` or ``\\r\\n`` ended); a final line without newline counts."""
    limit = max_bytes + 3  # the record, one byte over the limit, and the line end
    number = 0
    while True:
        line = stream.readline(limit)
        if not line:
            return
        number += 1
        if line.endswith(b"\n"):
            body = line.rstrip(b"\r\n")
            size = len(body)
        else:  # cut at the limit, or the file's last line without a newline
            body = line
            size = len(body) + _skip_rest(stream)
        yield RawRecord(f"{origin}:{number}", body[: max_bytes + 1], size)


def _skip_rest(stream: _LineStream) -> int:
    """Consume the rest of an over-long line; returns how many bytes it had (newline excluded)."""
    skipped = 0
    while True:
        chunk = stream.readline(_CHUNK)
        if not chunk:
            return skipped
        if chunk.endswith(b"\n"):
            return skipped + len(chunk.rstrip(b"\r\n"))
        skipped += len(chunk)


def read_parquet(path: Path, batch_rows: int = 1024) -> Iterator[RawRecord]:
    """Rows of a Parquet file (columns id, source, text, optional meta) as JSON records."""
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        for values in batch.to_pylist():
            row += 1
            raw = row_bytes(values)
            yield RawRecord(f"{path}:{row}", raw, len(raw))


def row_bytes(row: dict[str, Any]) -> bytes:
    """The adapter every table row passes through: a Document v1 JSON object.

    The corpus writer stores ``meta`` as a JSON string (Parquet has no free-form maps): it is
    decoded back; a null ``meta`` is dropped.  A ``meta`` string that is not JSON stays a string,
    so admission names it (``invalid_field``).
    """
    meta = row.get("meta")
    if meta is None:
        row = {k: v for k, v in row.items() if k != "meta"}
    elif isinstance(meta, str):
        with contextlib.suppress(json.JSONDecodeError, RecursionError):
            row = {**row, "meta": json.loads(meta) if meta else {}}
    return json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
