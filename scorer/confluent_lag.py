"""The consumer-lag gauge over librdkafka: high watermark minus position, per partition.

Before a partition's first message since its assignment, its position is where it resumes (its
committed offset, else the low watermark), asked from the broker once per assignment; librdkafka's
cached watermark can be one from an earlier assignment, so the one read then is a floor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mira import metrics

log = logging.getLogger(__name__)


class LagGauge:
    def __init__(self, consumer: Callable[[], Any]) -> None:
        self._consumer = consumer  # the current librdkafka consumer (it can be replaced)
        self._start: dict[tuple[str, int], int] = {}  # where an assigned partition resumes
        self._high: dict[tuple[str, int], int] = {}  # its high watermark when it was assigned

    def assigned(self, partitions: list[Any]) -> None:
        """Resume points of newly assigned partitions: a broker round trip per rebalance."""
        if not partitions:
            return
        consumer = self._consumer()
        try:
            for tp in consumer.committed(partitions, timeout=5.0):
                low, high = consumer.get_watermark_offsets(tp, timeout=5.0)
                self._start[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else low
                self._high[(tp.topic, tp.partition)] = high
        except Exception as exc:  # the lag of these partitions waits for their first message
            log.debug("no resume points for the lag gauge: %s", exc)

    def update(self) -> None:
        consumer = self._consumer()
        assigned = consumer.assignment()
        if not assigned:
            return
        for tp in consumer.position(assigned):
            try:
                _, high = consumer.get_watermark_offsets(tp, cached=True)
            except Exception:  # not fetched yet
                continue
            key = (tp.topic, tp.partition)
            high = max(high, self._high.get(key, -1))  # the cache may predate the assignment
            pos = tp.offset if tp.offset >= 0 else self._start.get(key, -1)
            if pos >= 0 and high >= 0:
                metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - pos))
