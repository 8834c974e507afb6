"""Exponential backoff with full jitter, capped; reset after a success."""

from __future__ import annotations

import random


class Backoff:
    def __init__(
        self,
        initial_s: float = 0.1,
        max_s: float = 5.0,
        factor: float = 2.0,
        jitter: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if initial_s <= 0 or max_s < initial_s or factor < 1:
            raise ValueError("need 0 < initial_s <= max_s and factor >= 1")
        self.initial_s = initial_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self.attempts = 0

    def next_delay(self) -> float:
        """Delay before the next attempt; grows with each call until ``reset``."""
        ceiling = min(self.max_s, self.initial_s * self.factor**self.attempts)
        self.attempts += 1
        if not self.jitter:
            return ceiling
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0
