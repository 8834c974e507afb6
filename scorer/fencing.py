"""When a fenced static consumer may be replaced instead of ending the scorer.

librdkafka makes FENCED_INSTANCE_ID fatal to a consumer (its issue #3437).  One way to get it
without any other scorer holding the id: a broker outage longer than ``session_timeout_ms``, after
which the consumer rejoins under a new member id and a request still carrying the old one is
refused.  A fresh consumer with the same ``group.instance.id`` rejoins cleanly, so that is
retried a bounded number of times; a fence that keeps coming back means another process really
holds the id (a configuration error), and any other fatal error ends the scorer as before.
"""

from __future__ import annotations

import time
from typing import Any

WINDOW_S = 600.0
_FENCED_TEXT = "group.instance.id"  # librdkafka: "Static consumer fenced by other consumer with
# same group.instance.id" (the fatal event's code is _FATAL; the cause is only in its text)


def fenced_member(err: Any) -> bool:
    """A librdkafka error that says this static member was fenced."""
    from confluent_kafka import KafkaError

    return err.code() == KafkaError.FENCED_INSTANCE_ID or _FENCED_TEXT in (err.str() or "")


class FenceBudget:
    """At most ``renewals`` consumer replacements in any ``WINDOW_S`` seconds."""

    def __init__(self, renewals: int, clock: Any = time.monotonic) -> None:
        self.renewals = renewals
        self._clock = clock
        self._times: list[float] = []

    def take(self) -> bool:
        """Spend one replacement; False when the window's budget is used up."""
        now = self._clock()
        self._times = [t for t in self._times if now - t < WINDOW_S]
        if len(self._times) >= self.renewals:
            return False
        self._times.append(now)
        return True
