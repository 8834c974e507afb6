"""Per-partition offset tracking: commit only the contiguous prefix of completed messages.

A message is *started* when it is consumed and *completed* when its outputs are known.  Messages
complete out of order (groups are batched separately), so the committable offset of a partition
is one past the last message of the longest completed prefix: never past an unscored document.
Thread-safe: the consumer thread pops and revokes while the event loop completes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)  # partition key (kafka TopicPartition in the app)
T = TypeVar("T")  # what a completed message carries (its output messages)


@dataclass(frozen=True, slots=True)
class Token(Generic[P]):
    """Identifies one started message; stale after its partition is revoked."""

    partition: P
    offset: int
    epoch: int


@dataclass(slots=True)
class Ready(Generic[T]):
    """The completed prefix of one partition: (offset, outputs) in offset order."""

    items: list[tuple[int, T]]
    commit_offset: int
    epoch: int = 0  # assignment epoch of the partition the items came from


@dataclass(slots=True)
class _Partition(Generic[T]):
    epoch: int
    order: deque[int] = field(default_factory=deque)
    done: dict[int, T] = field(default_factory=dict)


class OffsetTracker(Generic[P, T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[P, _Partition[T]] = {}
        self._epoch = 0

    def start(self, partition: P, offset: int) -> Token[P]:
        """Register a consumed message (offsets of one partition must arrive increasing)."""
        with self._lock:
            part = self._parts.get(partition)
            if part is None:
                self._epoch += 1
                part = self._parts[partition] = _Partition(self._epoch)
            if part.order and offset <= part.order[-1]:
                raise ValueError(f"{partition}: offset {offset} after {part.order[-1]}")
            part.order.append(offset)
            return Token(partition, offset, part.epoch)

    def complete(self, token: Token[P], item: T) -> bool:
        """Record a message's outputs; False (ignored) when its partition was revoked since."""
        with self._lock:
            part = self._parts.get(token.partition)
            if part is None or part.epoch != token.epoch:
                return False
            part.done[token.offset] = item
            return True

    def complete_many(self, done: Iterable[tuple[Token[P], T]]) -> int:
        """``complete`` for each (token, item), under one lock; returns how many were kept."""
        kept = 0
        with self._lock:
            for token, item in done:
                part = self._parts.get(token.partition)
                if part is not None and part.epoch == token.epoch:
                    part.done[token.offset] = item
                    kept += 1
        return kept

    def pop_ready(self, partitions: Iterable[P] | None = None) -> dict[P, Ready[T]]:
        """Remove and return the completed prefix of each (or the given) partition."""
        out: dict[P, Ready[T]] = {}
        with self._lock:
            keys = list(self._parts) if partitions is None else list(partitions)
            for key in keys:
                part = self._parts.get(key)
                if part is None:
                    continue
                items: list[tuple[int, T]] = []
                last = -1
                while part.order and part.order[0] in part.done:
                    last = part.order.popleft()
                    items.append((last, part.done.pop(last)))
                if items:
                    out[key] = Ready(items, last + 1, part.epoch)
        return out

    def revoke(self, partitions: Iterable[P]) -> int:
        """Forget partitions; later completions for them are ignored.  Returns dropped count."""
        dropped = 0
        with self._lock:
            for key in partitions:
                part = self._parts.pop(key, None)
                if part is not None:
                    dropped += len(part.order)
        return dropped

    def owns(self, partition: P, epoch: int) -> bool:
        """Whether ``partition`` is still tracked in assignment ``epoch``."""
        with self._lock:
            part = self._parts.get(partition)
            return part is not None and part.epoch == epoch

    def incomplete(self, partitions: Iterable[P]) -> int:
        """Started messages of ``partitions`` whose outputs are not known yet."""
        with self._lock:
            parts = [self._parts.get(key) for key in partitions]
            return sum(len(p.order) - len(p.done) for p in parts if p is not None)

    def pending(self) -> int:
        """Started messages not yet popped (completed or not)."""
        with self._lock:
            return sum(len(p.order) for p in self._parts.values())

    def partitions(self) -> list[P]:
        with self._lock:
            return list(self._parts)
