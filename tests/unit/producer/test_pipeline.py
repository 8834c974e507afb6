"""The produce loop with an in-memory sink: rejects, --strict, rejects file and rate limit."""

from __future__ import annotations

import io
import json
from pathlib import Path

from mira.contracts import DeadLetter
from producer.pipeline import RateLimiter, produce
from producer.readers import read_path


class ListSink:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    def send(self, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))


def _file(tmp_path: Path) -> Path:
    good = [json.dumps({"id": f"d{i}", "source": "s", "text": "t"}) for i in range(4)]
    lines = [good[0], "broken", good[1], '{"id": 1}', good[2], good[3]]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rejects_are_counted_and_the_rest_is_sent(tmp_path: Path, caplog) -> None:
    sink = ListSink()
    summary = produce(read_path(_file(tmp_path)), sink)
    assert [k for k, _ in sink.sent] == [b"d0", b"d1", b"d2", b"d3"]
    assert summary.queued == 4 and summary.rejected == 2 and summary.stopped_at is None
    assert summary.queued_bytes == sum(len(v) for _, v in sink.sent)
    assert "in.jsonl:2: invalid_json" in caplog.text
    assert "in.jsonl:4: " in caplog.text


def test_strict_stops_at_the_first_malformed_line(tmp_path: Path) -> None:
    sink = ListSink()
    summary = produce(read_path(_file(tmp_path)), sink, strict=True)
    assert [k for k, _ in sink.sent] == [b"d0"]
    assert summary.stopped_at is not None and summary.stopped_at.line == 2


def test_rejects_file_holds_dead_letters(tmp_path: Path) -> None:
    out = io.StringIO()
    produce(read_path(_file(tmp_path)), ListSink(), rejects=out)
    letters = [DeadLetter.model_validate_json(line) for line in out.getvalue().splitlines()]
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
