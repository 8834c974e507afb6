import gzip
import json
from pathlib import Path

from scorer.files import iter_records


def test_jsonl_keeps_raw_bytes_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "1"}\r\n\n  \n\xff\n{"id": "2"}')
    assert list(iter_records(path)) == [(f"{path}:1", b'{"id": "1"}'), (f"{path}:4", b"\xff"),
                                        (f"{path}:5", b'{"id": "2"}')]


def test_gzip_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'{"id": "1"}\n{"id": "2"}\n')
    assert [o for o, _ in iter_records(path)] == [f"{path}:1", f"{path}:2"]


def test_parquet_rows_become_json_objects(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": ["1", "2"], "source": ["s", "s"], "text": ["x", None]}), path)
    rows = list(iter_records(path))
    assert [o for o, _ in rows] == [f"{path}:1", f"{path}:2"]
    assert json.loads(rows[0][1]) == {"id": "1", "source": "s", "text": "x"}
    assert json.loads(rows[1][1])["text"] is None  # validation (not reading) rejects it later
