"""The produce loop: records in, Kafka sends out, rejects reported, one summary at the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Protocol

from mira.contracts import DeadLetter
from mira.engine.admit import Invalid, admit
from mira.reader import RawRecord
from mira.settings import DocumentSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record admission refused: where it came from and why."""

    record: RawRecord
    why: Invalid

    def describe(self) -> str:
        return f"{self.record.origin}: {self.why.reason.value}: {self.why.detail}"


class Sink(Protocol):
    """Where valid records go (KafkaWriter, or a fake in tests)."""

    def send(self, key: bytes, value: bytes) -> None: ...


_LOGGED_REJECTS = 100


@dataclass
class Summary:
    queued: int = 0
    queued_bytes: int = 0
    rejected: int = 0
    sent: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    stopped_at: Rejected | None = None  # the record --strict stopped on
    rejected_examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        secs = max(self.elapsed_s, 1e-9)
        return (
            f"sent {self.sent}, failed {self.failed}, rejected lines {self.rejected}, "
            f"{self.queued_bytes / 1e6:.2f} MB in {self.elapsed_s:.1f} s "
            f"({self.sent / secs:,.0f} docs/s, {self.queued_bytes / 1e6 / secs:.2f} MB/s)"
        )


class RateLimiter:
    """At most ``rate`` acquisitions per second on average (sleeps when ahead)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = clock()

    def acquire(self) -> None:
        now = self._clock()
        if self._next > now:
            self._sleep(self._next - now)
        self._next = max(self._next, now - 1.0) + self.interval  # burst <= 1 s of credit


def write_reject(out: IO[str], rejected: Rejected) -> None:
    """One DeadLetter JSON line: reason, detail, ``file:line`` and the raw line."""
    rec = rejected.record
    out.write(
        DeadLetter.of(rejected.why.reason, rejected.why.detail, rec.origin, rec.raw).json_line()
    )


def produce(
    records: Iterable[RawRecord],
    sink: Sink,
    limits: DocumentSettings,
    *,
    strict: bool,
    rejects: IO[str] | None,
    rate: float | None,
    on_progress: Callable[[int, int], None] | None,
) -> Summary:
    """Send every admitted record; report or write every refused one (stop at it if strict).

    ``on_progress(docs, bytes)`` is called per record sent.  ``sent``/``failed`` are left to
    the caller, who knows when the sink has flushed.
    """
    summary = Summary()
    limiter = RateLimiter(rate) if rate else None
    began = time.monotonic()
    try:
        for record in records:
            doc = admit(record.raw, limits, record.size)
            if isinstance(doc, Invalid):
                rejected = Rejected(record, doc)
                _reject(summary, rejected, rejects)
                if strict:
                    summary.stopped_at = rejected
                    break
                continue
            if limiter is not None:
                limiter.acquire()
            value = doc.model_dump_json().encode("utf-8")
            sink.send(doc.id.encode("utf-8"), value)
            summary.queued += 1
            summary.queued_bytes += len(value)
            if on_progress is not None:
                on_progress(1, len(value))
    finally:
        summary.elapsed_s = time.monotonic() - began
    return summary


def _reject(summary: Summary, record: Rejected, rejects: IO[str] | None) -> None:
    summary.rejected += 1
    if rejects is not None:
        write_reject(rejects, record)
    elif summary.rejected <= _LOGGED_REJECTS:
        log.warning("rejected %s", record.describe())
        if summary.rejected == _LOGGED_REJECTS:
            log.warning("further rejected lines are only counted: use --rejects FILE")
    if len(summary.rejected_examples) < 20:
        summary.rejected_examples.append(record.describe())
