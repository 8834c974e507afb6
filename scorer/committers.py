"""The two committers: at-least-once and exactly-once delivery of one cycle (see delivery.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mira import metrics
from scorer.delivery import (
    TOO_LARGE,
    DeliveryError,
    Entry,
    FatalDeliveryError,
    Held,
    Limits,
    count_delivered,
    fatal,
    fit,
    offsets,
    send,
    stub,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Delivered:
    """What a cycle achieved: per partition how many leading entries are now committed;
    ``renew`` when the producer must be replaced (a transaction that never completed)."""

    done: dict[Any, int] = field(default_factory=dict)
    error: str | None = None
    renew: bool = False


def _complete(producer: Any, commit: bool, timeout_s: float) -> None:
    """Commit or abort the open transaction, waiting at most ``timeout_s``.

    kafka-python's own calls wait without bound, and after some send failures the end of the
    transaction never completes; a producer that times out here is replaced (its successor's
    ``init_transactions`` fences it and aborts what it left open).
    """
    manager = getattr(producer, "_transaction_manager", None)
    sender = getattr(producer, "_sender", None)
    if manager is None or sender is None:  # a fake or another client: its own calls
        (producer.commit_transaction if commit else producer.abort_transaction)()
        return
    result = manager.begin_commit() if commit else manager.begin_abort()
    sender.wakeup()
    if not result.wait(timeout_ms=int(timeout_s * 1000)):
        raise TransactionStuck(
            f"{'commit' if commit else 'abort'} did not complete in {timeout_s:.0f} s"
        )


class TransactionStuck(RuntimeError):
    """The end of a transaction did not complete in time: the producer is replaced."""


def _acked_prefix(held: Held) -> int:
    n = 0
    while n < len(held.entries) and held.entries[n].acked:
        n += 1
    return n


def _too_large(e: Entry) -> bool:
    return (
        e.future is not None
        and e.future.is_done
        and not e.future.succeeded()
        and type(e.future.exception).__name__ in TOO_LARGE
    )


class _Committer:
    """What both committers share: the clients, the size limit, and output isolation.

    An idempotent producer that meets a size error from the broker fails every batch in flight
    with it, so a size error does not say which output was too large: those outputs become
    suspects and are later sent one at a time (each flushed alone); only one that fails alone
    becomes a stub.  ``renew`` replaces a producer left in a fatal state.
    """

    def __init__(
        self, producer: Any, consumer: Any, limits: Limits, dlq: str, timeout_s: float
    ) -> None:
        self.producer, self.consumer = producer, consumer
        self.limit, self.dlq, self.timeout_s = limits, dlq, timeout_s
        self.renew: Any = None  # set by KafkaIO: replaces a broken producer

    def _alone(self, e: Entry) -> bool:
        """Send one suspect by itself; True when it (or its stub) was acknowledged."""
        fit(e, self.limit, self.dlq)
        send(self.producer, e, self.dlq)
        self.producer.flush(timeout=self.timeout_s)
        if e.future is not None and not e.future.succeeded():
            if not _too_large(e):
                return False
            e.msg = stub(e.msg, self.dlq, f"refused by the broker: {e.future.exception}")
            if self.renew is not None:
                self.renew()
            send(self.producer, e, self.dlq)
            self.producer.flush(timeout=self.timeout_s)
            if e.future is not None and not e.future.succeeded():
                return False
        e.suspect = False
        return True


class AtLeastOnceCommitter(_Committer):
    def deliver(self, held: Mapping[Any, Held], meta: Any) -> Delivered:
        """Send what is not yet acked, then commit each partition's acked prefix."""
        pending = [e for h in held.values() for e in h.entries if not e.acked]
        suspects = [e for e in pending if e.suspect]
        rest = [e for e in pending if not e.suspect]
        error = None
        try:
            for e in suspects:
                e.acked = self._alone(e)
            error = self._produce(rest)
        except Exception as exc:  # broker unreachable, flush timeout: unacked ones wait
            error = f"{type(exc).__name__}: {exc}"
        prefix = {tp: _acked_prefix(h) for tp, h in held.items()}
        commit = {tp: held[tp].entries[n - 1].offset + 1 for tp, n in prefix.items() if n}
        if commit:
            try:
                self.consumer.commit(offsets(commit))
            except Exception as exc:  # rebalance, coordinator moved: acked outputs stay acked
                metrics.COMMIT_ERRORS.inc()
                return Delivered({}, f"commit failed: {type(exc).__name__}: {exc}")
            metrics.COMMITS.labels("at-least-once").inc()
            count_delivered([e for tp in commit for e in held[tp].entries[: prefix[tp]]])
        if error:
            metrics.COMMIT_ERRORS.inc()
        return Delivered({tp: prefix[tp] for tp in commit}, error)

    def _produce(self, entries: list[Entry]) -> str | None:
        """Send and wait; marks acked entries and suspects; returns the first error, if any."""
        for e in entries:
            fit(e, self.limit, self.dlq)
            send(self.producer, e, self.dlq)
        if entries:
            self.producer.flush(timeout=self.timeout_s)
        first = None
        for e in entries:
            if e.future is None or e.future.succeeded():
                e.acked = True
                continue
            e.suspect = _too_large(e)
            first = first or f"send failed: {e.future.exception}"
        return first


class ExactlyOnceCommitter(_Committer):
    def deliver(self, held: Mapping[Any, Held], meta: Any) -> Delivered:
        """One transaction: every held output and the offsets past them, or nothing."""
        if getattr(meta, "generation_id", -1) < 0 or not getattr(meta, "member_id", ""):
            return Delivered({}, "not a member of a group generation: commit refused (KIP-447)")
        entries = [e for h in held.values() for e in h.entries]
        commit = {tp: h.entries[-1].offset + 1 for tp, h in held.items() if h.entries}
        try:
            self.producer.begin_transaction()
            suspects = [e for e in entries if e.suspect]
            for e in suspects:  # each alone: a failure names its output
                if not self._alone_in_transaction(e):
                    raise DeliveryError(f"output of {e.msg.origin} is too large")
            for e in entries:
                if e not in suspects:
                    fit(e, self.limit, self.dlq)
                    send(self.producer, e, self.dlq)
            self.producer.send_offsets_to_transaction(offsets(commit), meta)
            _complete(self.producer, True, self.timeout_s)
        except Exception as exc:
            metrics.COMMIT_ERRORS.inc()
            if fatal(exc):
                raise FatalDeliveryError(f"producer fenced: {type(exc).__name__}: {exc}") from exc
            stuck = isinstance(exc, TransactionStuck) or not self._abort(entries)
            return Delivered({}, f"transaction aborted: {type(exc).__name__}: {exc}", stuck)
        metrics.COMMITS.labels("exactly-once").inc()
        count_delivered(entries)
        return Delivered({tp: len(h.entries) for tp, h in held.items()})

    def _alone_in_transaction(self, e: Entry) -> bool:
        fit(e, self.limit, self.dlq)
        send(self.producer, e, self.dlq)
        self.producer.flush(timeout=self.timeout_s)
        if e.future is None or e.future.succeeded():
            e.suspect = False
            return True
        if _too_large(e):  # this one alone: the next transaction sends its stub instead
            e.msg = stub(e.msg, self.dlq, f"refused by the broker: {e.future.exception}")
            e.suspect = False
        return False

    def _abort(self, entries: list[Entry]) -> bool:
        """Abort the open transaction; False when the producer could not (replace it)."""
        for e in entries:  # a size error marks suspects; it does not say which one
            e.suspect = e.suspect or _too_large(e)
            e.future = None
        try:
            _complete(self.producer, False, self.timeout_s)
        except Exception as exc:  # the transaction may never have begun, or the producer broke
            if fatal(exc):
                raise FatalDeliveryError(f"producer fenced: {exc}") from exc
            log.warning("abort_transaction failed: %s", exc)
            return not isinstance(exc, TransactionStuck)
        return True
