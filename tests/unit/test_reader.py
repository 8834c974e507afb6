"""The one reader: every line / row becomes a RawRecord with its origin; nothing is dropped."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mira.contracts import Document
from mira.engine.admit import Invalid, admit
from mira.reader import RawRecord, corpus_files, read_records
from mira.settings import DocumentSettings


def _doc(i: int, **extra: object) -> dict[str, object]:
    return {"id": f"d{i}", "source": "python", "text": f"print({i})", **extra}


def test_jsonl_keeps_raw_bytes_line_numbers_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "1"}\r\n\n  \n\xff\n{"id": "2"}')
    assert list(read_records([path], 100)) == [
        RawRecord(f"{path}:1", b'{"id": "1"}', 11),
        RawRecord(f"{path}:2", b"", 0),
        RawRecord(f"{path}:3", b"  ", 2),
        RawRecord(f"{path}:4", b"\xff", 1),
        RawRecord(f"{path}:5", b'{"id": "2"}', 11),
    ]


def test_an_overlong_line_is_cut_and_measured_not_held(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * 5000 + b"\r\n" + b'{"id": "2"}\n')
    first, second = read_records([path], 100)
    assert len(first.raw) == 101 and first.size == 5000 and first.origin.endswith(":1")
    assert second.raw == b'{"id": "2"}' and second.origin.endswith(":2")


def test_gzip_jsonl_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'{"id": "1"}\n{"id": "2"}\n')
    stdin = io.BytesIO(b"one\r\ntwo")
    got = [r.origin for r in read_records([path, "-"], 100, stdin)]
    assert got == [f"{path}:1", f"{path}:2", "<stdin>:1", "<stdin>:2"]


def test_parquet_rows_pass_through_the_one_adapter(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["p1", "p2", None],
            "source": ["s", "s", "s"],
            "text": ["a", "b", "c"],
            "meta": ['{"lang": "py"}', None, "not json"],
        }
    )
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    rows = list(read_records([path], 1000))
    assert [r.origin for r in rows] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert json.loads(rows[0].raw) == {
        "id": "p1",
        "source": "s",
        "text": "a",
        "meta": {"lang": "py"},
    }
    assert "meta" not in json.loads(rows[1].raw)
    verdicts = [admit(r.raw, DocumentSettings(), r.size) for r in rows]
    assert isinstance(verdicts[0], Document) and verdicts[0].meta == {"lang": "py"}
    assert isinstance(verdicts[1], Document)
    assert isinstance(verdicts[2], Invalid)


def test_directory_reads_jsonl_and_parquet_in_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.jsonl").write_text(json.dumps(_doc(2)) + "\n")
    (tmp_path / "a.jsonl").write_text(json.dumps(_doc(1)) + "\n")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in corpus_files(tmp_path)] == ["a.jsonl", "b.jsonl"]
    assert [json.loads(r.raw)["id"] for r in read_records([tmp_path], 1000)] == ["d1", "d2"]


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_records([tmp_path], 100))
