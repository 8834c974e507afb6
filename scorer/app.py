"""The streaming scorer: consume, admit, batch per group, score through the engine, route, commit.

Threads: the asyncio loop owns batching, tokenization hand-off, inference and reload; every
Kafka client call runs on one dedicated thread (``KafkaIO``, or ``ConfluentIO`` with
``kafka.client: confluent``), so polling never waits for
inference and inference never waits for polling.  Backpressure pauses the input partitions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from mira import metrics
from mira.contracts import RepositoryManifest
from mira.settings import MiraSettings
from scorer.delivery import DeliveryError, OutMessage
from scorer.kafka_io import KafkaIO
from scorer.offsets import OffsetTracker
from scorer.reload import Reloader
from scorer.scoring import Scoring

if TYPE_CHECKING:
    from scorer.confluent_io import ConfluentIO

log = logging.getLogger(__name__)
R = TypeVar("R")


class ScorerApp:
    def __init__(self, settings: MiraSettings, manifest: RepositoryManifest, digest: str) -> None:
        self.settings = settings
        self.manifest = manifest
        self.digest = digest
        self.tracker: OffsetTracker[Any, OutMessage] = OffsetTracker()
        self._kexec = ThreadPoolExecutor(1, thread_name_prefix="kafka")
        self._stop = asyncio.Event()
        self._stopping = False
        self._started = False
        self._paused = False
        self._beat = time.monotonic()
        self.io: KafkaIO | ConfluentIO | None = None
        self.flow: Scoring | None = None
        self.reloader: Reloader | None = None

    # ------------------------------------------------------------------ lifecycle
    def request_stop(self) -> None:
        log.info("stop requested: draining (bound %.1f s)", self.settings.scorer.drain_timeout_s)
        self._stopping = True
        self._stop.set()

    def live(self) -> bool:
        """The main loop turned within the last minute (a stuck consumer thread fails this)."""
        return time.monotonic() - self._beat < 60.0

    def ready(self) -> bool:
        ok = self._started and not self._stopping and self._backend_ok()
        metrics.READY.set(1 if ok else 0)
        return ok

    def _backend_ok(self) -> bool:
        return self.reloader is not None and self.reloader.backend_ok()

    async def _k(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._kexec, fn, *args)

    async def run(self) -> int:
        """Run until ``request_stop``; returns the exit code (0 after a clean drain)."""
        from mira.engine.build import triton_engine

        health = self._start_health()
        s = self.settings
        repo = s.scorer.manifest.parent
        engine = triton_engine(repo, self.manifest, s.engine, s.triton, s.scorer.tokenizer_workers)
        self.flow = Scoring(s, engine, lambda: self.manifest, self.tracker)
        self.reloader = Reloader(s, engine, lambda: self.manifest, self.digest, self._switch)
        try:
            self.io = await self._k(kafka_io, s, self.tracker)
            self._started = True
            side = [
                asyncio.create_task(self.reloader.reload_loop()),
                asyncio.create_task(self.reloader.probe_loop(self.ready)),
            ]
            try:
                await self._main_loop()
            finally:
                for task in side:
                    task.cancel()
                await self._drain()
        finally:
            engine.tokens.close()
            self.reloader.close()
            await engine.backend.close()
            self._kexec.shutdown(wait=False)
            if health is not None:
                health.stop()
        return 0

    def _switch(self, manifest: RepositoryManifest) -> None:
        self.manifest = manifest

    def _start_health(self) -> Any:
        from scorer.health import HealthServer

        return HealthServer(self.settings.scorer.metrics_port, self.live, self.ready).start()

    # ------------------------------------------------------------------ main loop
    async def _main_loop(self) -> None:
        assert self.io is not None and self.flow is not None
        sc = self.settings.scorer
        last_commit = last_lag = time.monotonic()
        while not self._stop.is_set():
            self._beat = time.monotonic()
            await self._backpressure()
            records = await self._k(self.io.poll, self._poll_timeout_ms())
            now = time.monotonic()
            for rec in records:
                self.flow.accept(rec, now)
            self.flow.dispatch(self.flow.batcher.due(now))
            if now - last_commit >= sc.commit_interval_ms / 1e3:
                await self._commit()
                last_commit = time.monotonic()
            if now - last_lag >= 1.0:
                await self._k(self.io.update_lag)
                last_lag = now
            metrics.PENDING.set(self.tracker.pending())

    def _poll_timeout_ms(self) -> int:
        """Until the next batch is due; ``poll_ms`` while work is in progress (its delivery
        waits for the loop), ``idle_poll_ms`` when there is none (a record ends a poll at once)."""
        assert self.flow is not None
        sc = self.settings.scorer
        deadline = self.flow.batcher.next_deadline()
        if deadline is not None:
            return int(min(sc.poll_ms, max(0.0, (deadline - time.monotonic()) * 1e3)))
        busy = self.tracker.pending() or self.flow.tasks or self._stopping
        return sc.poll_ms if busy else sc.idle_poll_ms

    async def _backpressure(self) -> None:
        assert self.io is not None
        pending, limit = self.tracker.pending(), self.settings.scorer.max_pending
        if pending >= limit or not self._backend_ok() or self._stopping:
            if not self._paused:
                log.info("pausing input (pending=%d, backend_ok=%s)", pending, self._backend_ok())
            await self._k(self.io.set_paused, True)  # also pauses newly assigned partitions
            self._paused = True
        elif self._paused and pending <= limit // 2:
            log.info("resuming input (pending=%d)", pending)
            await self._k(self.io.set_paused, False)
            self._paused = False

    async def _commit(self) -> None:
        assert self.io is not None
        try:
            await self._k(self.io.commit)
        except DeliveryError as exc:
            log.warning("delivery failed, will retry: %s", exc)

    # ------------------------------------------------------------------ shutdown
    async def _drain(self) -> None:
        self._stopping = True
        deadline = time.monotonic() + self.settings.scorer.drain_timeout_s
        if self.io is None or self.flow is None:
            return
        await self._k(self.io.set_paused, True)
        self.flow.dispatch(self.flow.batcher.drain())
        if self.flow.tasks:
            _, late = await asyncio.wait(set(self.flow.tasks), timeout=_left(deadline, 1.5))
            for task in late:
                task.cancel()
            if late:
                log.warning("drain: %d batches abandoned uncommitted", len(late))
        try:
            await asyncio.wait_for(self._k(self.io.commit), timeout=_left(deadline, 0.5))
        except (DeliveryError, TimeoutError) as exc:
            log.warning("final commit failed, uncommitted work will be redone: %s", exc)
        await asyncio.wait_for(self._k(self.io.close, 2.0), timeout=_left(deadline, 0) + 5)
        log.info("drained, %d pending abandoned", self.tracker.pending())


def kafka_io(
    settings: MiraSettings, tracker: OffsetTracker[Any, OutMessage]
) -> KafkaIO | ConfluentIO:
    """The Kafka side of the chosen client (``kafka.client``); same interface, same semantics."""
    if settings.kafka.client == "confluent":
        from scorer.confluent_io import ConfluentIO

        return ConfluentIO(settings, tracker)
    return KafkaIO(settings, tracker)


def _left(deadline: float, reserve: float) -> float:
    return max(0.05, deadline - time.monotonic() - reserve)
