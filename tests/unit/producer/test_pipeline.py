"""The produce loop with an in-memory sink: rejects, --strict, rejects file and rate limit."""

from __future__ import annotations

import io
import json
from pathlib import Path

from mira.contracts import DeadLetter
from mira.reader import read_records
from mira.settings import DocumentSettings
from producer.pipeline import RateLimiter, produce
from tests.fixtures.hostile import hostile_cases

L = DocumentSettings()


class ListSink:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    def send(self, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))


def read(path: Path):  # type: ignore[no-untyped-def]
    return read_records([path], L.max_bytes)


def run(records, sink, **kw):  # type: ignore[no-untyped-def]
    opts = {"strict": False, "rejects": None, "rate": None, "on_progress": None, **kw}
    return produce(records, sink, L, **opts)


def _file(tmp_path: Path) -> Path:
    good = [json.dumps({"id": f"d{i}", "source": "s", "text": "t"}) for i in range(4)]
    lines = [good[0], "broken", good[1], '{"id": 1}', good[2], good[3]]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rejects_are_counted_and_the_rest_is_sent(tmp_path: Path, caplog) -> None:
    sink = ListSink()
    summary = run(read(_file(tmp_path)), sink)
    assert [k for k, _ in sink.sent] == [b"d0", b"d1", b"d2", b"d3"]
    assert summary.queued == 4 and summary.rejected == 2 and summary.stopped_at is None
    assert summary.queued_bytes == sum(len(v) for _, v in sink.sent)
    assert "in.jsonl:2: invalid_json" in caplog.text
    assert "in.jsonl:4: " in caplog.text


def test_strict_stops_at_the_first_malformed_line(tmp_path: Path) -> None:
    sink = ListSink()
    summary = run(read(_file(tmp_path)), sink, strict=True)
    assert [k for k, _ in sink.sent] == [b"d0"]
    assert summary.stopped_at is not None and summary.stopped_at.record.origin.endswith(":2")


def test_rejects_file_holds_dead_letters(tmp_path: Path) -> None:
    out = io.StringIO()
    run(read(_file(tmp_path)), ListSink(), rejects=out)
    letters = [DeadLetter.from_json_line(line) for line in out.getvalue().splitlines()]
    assert [d.origin.rsplit(":", 1)[1] for d in letters] == ["2", "4"]
    assert letters[0].raw == "broken" and letters[1].error == "missing_field"


def test_rate_limiter_spaces_acquisitions() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert abs(now[0] - 0.4) < 1e-9 and len(slept) == 4


def test_hostile_lines_are_rejected_with_their_reason_and_valid_ones_sent(tmp_path: Path) -> None:
    cases = hostile_cases("s", L.max_bytes)
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(c.raw for c in cases) + b"\n")
    out, sink = io.StringIO(), ListSink()
    summary = run(read(path), sink, rejects=out)
    letters = [DeadLetter.from_json_line(line) for line in out.getvalue().splitlines()]
    assert summary.queued + summary.rejected == len(cases)
    assert [d.error for d in letters] == [c.reason for c in cases if c.reason is not None]
    assert len(sink.sent) == sum(c.reason is None for c in cases)
