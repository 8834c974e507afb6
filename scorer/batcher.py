"""Micro-batching per group: a batch leaves when it is full or its oldest item waited max_wait.

Pure logic with an explicit clock, so it is tested without sleeping; the app calls ``add`` for
each document and ``due`` whenever it wakes up (``next_deadline`` says when to wake up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Batch(Generic[T]):
    group: str
    items: list[T]
    opened_at: float


@dataclass(slots=True)
class _Open(Generic[T]):
    opened_at: float
    items: list[T] = field(default_factory=list)


class MicroBatcher(Generic[T]):
    def __init__(self, max_size: int, max_wait_s: float) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0")
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self._open: dict[str, _Open[T]] = {}

    def add(self, group: str, item: T, now: float) -> Batch[T] | None:
        """Add one item; return the group's batch when this item filled it."""
        current = self._open.get(group)
        if current is None:
            current = self._open[group] = _Open(now)
        current.items.append(item)
        if len(current.items) >= self.max_size:
            del self._open[group]
            return Batch(group, current.items, current.opened_at)
        return None

    def due(self, now: float) -> list[Batch[T]]:
        """Remove and return every batch whose oldest item has waited at least max_wait."""
        ripe = [g for g, b in self._open.items() if now - b.opened_at >= self.max_wait_s]
        return [self._take(g) for g in ripe]

    def drain(self) -> list[Batch[T]]:
        """Remove and return all open batches (shutdown)."""
        return [self._take(g) for g in list(self._open)]

    def next_deadline(self) -> float | None:
        """Clock time at which the oldest open batch becomes due (None when nothing is open)."""
        if not self._open:
            return None
        return min(b.opened_at for b in self._open.values()) + self.max_wait_s

    def __len__(self) -> int:
        return sum(len(b.items) for b in self._open.values())

    def _take(self, group: str) -> Batch[T]:
        b = self._open.pop(group)
        return Batch(group, b.items, b.opened_at)
