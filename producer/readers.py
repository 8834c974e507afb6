"""Sources of Document v1 records: JSONL files, Parquet files, corpus directories and stdin.

A reader yields, for every input line (or Parquet row), either :class:`Parsed` (a valid Document
and its compact JSON) or :class:`Rejected` (the reason and the raw bytes), each with its origin and
1-based line number.  Readers never raise on bad records; what to do with them is the caller's call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from mira.contracts import DeadLetterReason, Document
from scorer.validate import Invalid, parse_document

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024
SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True, slots=True)
class Parsed:
    origin: str
    line: int
    doc: Document
    value: bytes  # compact JSON of ``doc`` (the Kafka message value)

    @property
    def key(self) -> bytes:
        return self.doc.id.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Rejected:
    origin: str
    line: int
    reason: DeadLetterReason
    detail: str
    raw: bytes

    def describe(self) -> str:
        return f"{self.origin}:{self.line}: {self.reason.value}: {self.detail}"


Record = Parsed | Rejected


def _judge(raw: bytes, origin: str, line: int, max_bytes: int) -> Record:
    if len(raw) <= max_bytes:
        try:  # fast path (pydantic's JSON parser); the slow one below names the reason
            doc = Document.model_validate_json(raw)
            return Parsed(origin, line, doc, doc.model_dump_json().encode("utf-8"))
        except ValidationError:
            pass
    result = parse_document(raw, max_bytes)
    if isinstance(result, Invalid):
        return Rejected(origin, line, result.reason, result.detail, raw)
    return Parsed(origin, line, result, result.model_dump_json().encode("utf-8"))


def read_lines(stream: IO[bytes], origin: str,
               max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """JSONL from a binary stream; blank lines are skipped (their numbers still count)."""
    for number, raw in enumerate(stream, start=1):
        stripped = raw.rstrip(b"\r\n")
        if not stripped.strip():
            continue
        yield _judge(stripped, origin, number, max_bytes)


def read_jsonl(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    with path.open("rb") as fh:
        yield from read_lines(fh, str(path), max_bytes)


def _row_record(row: dict[str, Any], origin: str, number: int, max_bytes: int) -> Record:
    meta = row.get("meta")
    if isinstance(meta, str):  # meta stored as a JSON string column
        try:
            row["meta"] = json.loads(meta) if meta else {}
        except json.JSONDecodeError as exc:
            raw = json.dumps(row, default=str).encode()
            return Rejected(origin, number, DeadLetterReason.INVALID_FIELD,
                            f"meta: not JSON ({exc.msg})", raw)
    elif meta is None:
        row.pop("meta", None)
    raw = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")
    if len(raw) > max_bytes:
        return Rejected(origin, number, DeadLetterReason.TOO_LARGE,
                        f"{len(raw)} bytes > limit {max_bytes}", raw)
    try:
        doc = Document.model_validate(row)
    except ValidationError:
        return _judge(raw, origin, number, max_bytes)  # same reason codes as JSON input
    return Parsed(origin, number, doc, doc.model_dump_json().encode("utf-8"))


def read_parquet(path: Path, max_bytes: int = DEFAULT_MAX_BYTES,
                 batch_rows: int = 2048) -> Iterator[Record]:
    """Rows of a Parquet file with columns id, source, text and optional meta (struct or JSON)."""
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            number += 1
            yield _row_record(row, str(path), number, max_bytes)


def corpus_files(directory: Path) -> list[Path]:
    """The .jsonl and .parquet files under ``directory`` (recursive, sorted)."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def read_path(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """Dispatch on the path: a directory, a .parquet file, else JSONL."""
    if path.is_dir():
        files = corpus_files(path)
        if not files:
            raise FileNotFoundError(f"no .jsonl or .parquet files under {path}")
        for file in files:
            yield from read_path(file, max_bytes)
    elif path.suffix == ".parquet":
        yield from read_parquet(path, max_bytes)
    else:
        yield from read_jsonl(path, max_bytes)


def read_inputs(inputs: Iterable[Path | str], stdin: IO[bytes] | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """All records of the given inputs in order; ``-`` means stdin."""
    for item in inputs:
        if str(item) == "-":
            if stdin is None:
                raise ValueError("'-' given but no stdin stream")
            yield from read_lines(stdin, "<stdin>", max_bytes)
        else:
            yield from read_path(Path(item), max_bytes)
