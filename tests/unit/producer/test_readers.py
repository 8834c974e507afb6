"""Readers: every line becomes Parsed or Rejected, with its origin and 1-based line number."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mira.contracts import DeadLetterReason
from producer.readers import Parsed, Rejected, corpus_files, read_inputs, read_path


def _doc(i: int, **extra: object) -> dict[str, object]:
    return {"id": f"d{i}", "source": "python", "text": f"print({i})", **extra}


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_lines_become_compact_json_keyed_by_id(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", [json.dumps(_doc(1), indent=None), json.dumps(_doc(2))])
    records = list(read_path(path))
    assert all(isinstance(r, Parsed) for r in records)
    first = records[0]
    assert isinstance(first, Parsed)
    assert first.key == b"d1" and first.line == 1 and first.origin == str(path)
    assert b": " not in first.value and json.loads(first.value)["text"] == "print(1)"


def test_malformed_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    lines = [json.dumps(_doc(1)), "{not json", "", json.dumps({"id": "x"}), "[1, 2]",
             json.dumps(_doc(5, meta="oops"))]
    records = list(read_path(_jsonl(tmp_path / "b.jsonl", lines)))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [(r.line, r.reason) for r in rejected] == [
        (2, DeadLetterReason.INVALID_JSON),
        (4, DeadLetterReason.MISSING_FIELD),
        (5, DeadLetterReason.INVALID_JSON),
        (6, DeadLetterReason.INVALID_FIELD),
    ]
    assert rejected[0].raw == b"{not json"
    assert rejected[0].describe().startswith(f"{tmp_path / 'b.jsonl'}:2: invalid_json")


def test_bad_utf8_and_too_large(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "a", "source": "s", "text": "\xff"}\n' + json.dumps(
        _doc(2, text="x" * 500)).encode() + b"\n")
    reasons = [r.reason for r in read_path(path, max_bytes=200) if isinstance(r, Rejected)]
    assert reasons == [DeadLetterReason.BAD_UTF8, DeadLetterReason.TOO_LARGE]


def test_stdin_and_crlf() -> None:
    stream = io.BytesIO(json.dumps(_doc(1)).encode() + b"\r\n" + b"oops\r\n")
    records = list(read_inputs(["-"], stdin=stream))
    assert isinstance(records[0], Parsed) and records[0].doc.text == "print(1)"
    assert isinstance(records[1], Rejected) and records[1].origin == "<stdin>"
    assert records[1].line == 2


def test_parquet_rows_with_struct_or_json_meta(tmp_path: Path) -> None:
    table = pa.table({"id": ["p1", "p2", None], "source": ["s", "s", "s"],
                      "text": ["a", "b", "c"], "meta": ['{"lang": "py"}', None, "{}"]})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    records = list(read_path(path))
    assert [type(r).__name__ for r in records] == ["Parsed", "Parsed", "Rejected"]
    first = records[0]
    assert isinstance(first, Parsed) and first.doc.meta == {"lang": "py"}
    assert records[2].line == 3


def test_directory_reads_jsonl_and_parquet_in_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _jsonl(tmp_path / "sub" / "b.jsonl", [json.dumps(_doc(2))])
    _jsonl(tmp_path / "a.jsonl", [json.dumps(_doc(1))])
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in corpus_files(tmp_path)] == ["a.jsonl", "b.jsonl"]
    assert [r.key for r in read_path(tmp_path) if isinstance(r, Parsed)] == [b"d1", b"d2"]


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_path(tmp_path))
