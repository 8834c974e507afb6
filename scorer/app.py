"""The streaming scorer: consume, validate, batch per group, score on Triton, route, commit.

Threads: the asyncio loop owns batching, tokenization hand-off, inference and reload; every
kafka-python call runs on one dedicated thread (``KafkaIO``), so polling never waits for
inference and inference never waits for polling.  Backpressure pauses the input partitions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mira import metrics
from mira.contracts import DeadLetterReason, RepositoryManifest
from scorer.backend import BackendError
from scorer.batcher import Batch, MicroBatcher
from scorer.delivery import DeliveryError, OutMessage
from scorer.kafka_io import KafkaIO, KafkaOptions
from scorer.messages import OutputTopics, Pending, dead_letter
from scorer.offsets import OffsetTracker
from scorer.reload import ManifestWatcher, activate, model_changes
from scorer.route import UnknownSource, resolve_group
from scorer.scoring import BatchScorer
from scorer.tokenpool import TokenizerPool
from scorer.triton_backend import AsyncTritonScorer
from scorer.validate import Invalid, parse_document

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class AppOptions:
    kafka: KafkaOptions
    topics: OutputTopics
    manifest_path: Path
    triton_url: str
    max_in_flight: int = 4
    triton_timeout_s: float = 30.0
    batch_size: int = 64
    max_wait_ms: int = 20
    max_bytes: int = 1024 * 1024
    unknown_source: UnknownSource = "fallback"
    tokenizer_workers: int = 1
    metrics_port: int | None = 9400
    drain_timeout_s: float = 20.0
    max_pending: int = 4096
    commit_interval_ms: int = 200
    reload_interval_s: float = 5.0
    max_delivery_failures: int = 20
    triton_tls: Mapping[str, Any] = field(default_factory=dict)  # TritonSettings.grpc_tls_kwargs


class ScorerApp:
    def __init__(self, opts: AppOptions, manifest: RepositoryManifest, digest: str) -> None:
        self.opts = opts
        self.manifest = manifest
        self.watcher = ManifestWatcher(opts.manifest_path, digest)
        self.tracker: OffsetTracker[Any, OutMessage] = OffsetTracker()
        self.batcher: MicroBatcher[Pending] = MicroBatcher(opts.batch_size, opts.max_wait_ms / 1e3)
        self._kexec = ThreadPoolExecutor(1, thread_name_prefix="kafka")
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._stopping = False
        self._started = False
        self._paused = False
        self._probe_ok = True
        self._delivery_failures = 0
        self._beat = time.monotonic()
        self.io: KafkaIO | None = None
        self.scorer: BatchScorer | None = None

    # ------------------------------------------------------------------ lifecycle
    def request_stop(self) -> None:
        log.info("stop requested: draining (bound %.1f s)", self.opts.drain_timeout_s)
        self._stopping = True
        self._stop.set()

    def live(self) -> bool:
        """The main loop turned within the last minute (a stuck consumer thread fails this)."""
        return time.monotonic() - self._beat < 60.0

    def ready(self) -> bool:
        ok = self._started and not self._stopping and self._triton_ok()
        metrics.READY.set(1 if ok else 0)
        return ok

    def _triton_ok(self) -> bool:
        return self._probe_ok and (self.scorer is None or self.scorer.healthy)

    async def _k(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._kexec, fn, *args)

    async def run(self) -> int:
        """Run until ``request_stop``; returns the exit code (0 after a clean drain)."""
        health = self._start_health()
        triton = AsyncTritonScorer(self.opts.triton_url, self.opts.max_in_flight,
                                   self.opts.triton_timeout_s, self.opts.triton_tls)
        self.scorer = BatchScorer(triton, self._tokenizer_pool(self.manifest), self.opts.topics)
        try:
            self.io = await self._k(KafkaIO, self.opts.kafka, self.tracker)
            self._started = True
            side = [asyncio.create_task(self._reload_loop()), asyncio.create_task(self._probe())]
            try:
                await self._main_loop()
            finally:
                for task in side:
                    task.cancel()
                await self._drain()
        finally:
            self.scorer.close()
            await triton.close()
            self._kexec.shutdown(wait=False)
            if health is not None:
                health.stop()
        return 0

    def _start_health(self) -> Any:
        if self.opts.metrics_port is None:
            return None
        from scorer.health import HealthServer

        return HealthServer(self.opts.metrics_port, self.live, self.ready).start()

    def _tokenizer_pool(self, manifest: RepositoryManifest) -> TokenizerPool:
        path = self.opts.manifest_path.parent / manifest.tokenizer
        return TokenizerPool(path, manifest.max_length, manifest.max_chars,
                             self.opts.tokenizer_workers)

    # ------------------------------------------------------------------ main loop
    async def _main_loop(self) -> None:
        assert self.io is not None
        last_commit = last_lag = time.monotonic()
        while not self._stop.is_set():
            self._beat = time.monotonic()
            await self._backpressure()
            records = await self._k(self.io.poll, self._poll_timeout_ms())
            now = time.monotonic()
            for rec in records:
                self._accept(rec, now)
            self._dispatch(self.batcher.due(now))
            if now - last_commit >= self.opts.commit_interval_ms / 1e3:
                await self._commit()
                last_commit = time.monotonic()
            if now - last_lag >= 1.0:
                await self._k(self.io.update_lag)
                last_lag = now
            metrics.PENDING.set(self.tracker.pending())

    def _poll_timeout_ms(self) -> int:
        deadline = self.batcher.next_deadline()
        if deadline is None:
            return 50
        return int(min(50.0, max(0.0, (deadline - time.monotonic()) * 1e3)))

    def _accept(self, rec: Any, now: float) -> None:
        from kafka.structs import TopicPartition

        metrics.DOCS_IN.labels(rec.topic).inc()
        token = self.tracker.start(TopicPartition(rec.topic, rec.partition), rec.offset)
        parsed = parse_document(rec.value if rec.value is not None else b"", self.opts.max_bytes)
        if isinstance(parsed, Invalid):
            self.tracker.complete(token, dead_letter(rec, parsed.reason, parsed.detail,
                                                     self.opts.topics))
            return
        group = resolve_group(parsed, self.manifest, self.opts.unknown_source)
        if isinstance(group, Invalid):
            self.tracker.complete(token, dead_letter(rec, group.reason, group.detail,
                                                     self.opts.topics))
            return
        full = self.batcher.add(group, Pending(rec, parsed, token), now)
        if full is not None:
            self._dispatch([full])

    def _dispatch(self, batches: list[Batch[Pending]]) -> None:
        for batch in batches:
            task = asyncio.create_task(self._score(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _score(self, batch: Batch[Pending]) -> None:
        assert self.scorer is not None
        try:
            outs = await self.scorer.score(batch, lambda: self.manifest)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not lose documents: dead-letter with detail
            log.exception("scoring a batch of %s failed", batch.group)
            reason = DeadLetterReason.INFERENCE_FAILED
            detail = f"{type(exc).__name__}: {exc}" if isinstance(exc, BackendError) else str(exc)
            outs = [dead_letter(p.record, reason, detail, self.opts.topics) for p in batch.items]
        for pending, out in zip(batch.items, outs, strict=True):
            self.tracker.complete(pending.token, out)

    async def _backpressure(self) -> None:
        assert self.io is not None
        pending = self.tracker.pending()
        if pending >= self.opts.max_pending or not self._triton_ok() or self._stopping:
            if not self._paused:
                log.info("pausing input (pending=%d, triton_ok=%s)", pending, self._triton_ok())
            await self._k(self.io.set_paused, True)  # also pauses newly assigned partitions
            self._paused = True
        elif self._paused and pending <= self.opts.max_pending // 2:
            log.info("resuming input (pending=%d)", pending)
            await self._k(self.io.set_paused, False)
            self._paused = False

    async def _commit(self) -> None:
        assert self.io is not None
        try:
            await self._k(self.io.commit)
            self._delivery_failures = 0
        except DeliveryError as exc:
            self._delivery_failures += 1
            log.warning("delivery failed (%d in a row), will retry: %s",
                        self._delivery_failures, exc)
            if self._delivery_failures >= self.opts.max_delivery_failures:
                raise

    # ------------------------------------------------------------------ side tasks
    async def _probe(self) -> None:
        assert self.scorer is not None
        while True:
            ok = await self.scorer.triton.is_ready()
            if ok != self._probe_ok:
                log.warning("triton %s", "is ready again" if ok else "is not ready")
            self._probe_ok = ok
            self.ready()
            await asyncio.sleep(1.0)

    async def _reload_loop(self) -> None:
        while True:
            await asyncio.sleep(self.opts.reload_interval_s)
            polled = self.watcher.poll()
            if polled is not None:
                await self._apply(*polled)

    async def _apply(self, new: RepositoryManifest, digest: str) -> None:
        assert self.scorer is not None
        changes = model_changes(self.manifest, new)
        triton = self.scorer.triton
        if changes and not await activate(changes, triton.load_model, triton.model_ready):
            metrics.MANIFEST_RELOADS.labels("failed").inc()
            return
        old_key = self.scorer.tokens.key
        pool = self._tokenizer_pool(new) if _tok_key(self.opts, new) != old_key else None
        if pool is not None:
            self.scorer.swap_tokens(pool)
        self.manifest = new
        self.watcher.accept(digest)
        metrics.MANIFEST_RELOADS.labels("ok").inc()
        for group, gm in new.groups.items():
            metrics.MODEL_VERSION.labels(group).set(gm.version)
        log.info("manifest reloaded (%d model changes: %s)", len(changes), sorted(changes))

    # ------------------------------------------------------------------ shutdown
    async def _drain(self) -> None:
        self._stopping = True
        deadline = time.monotonic() + self.opts.drain_timeout_s
        if self.io is None:
            return
        await self._k(self.io.set_paused, True)
        self._dispatch(self.batcher.drain())
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=_left(deadline, 1.5))
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


def _left(deadline: float, reserve: float) -> float:
    return max(0.05, deadline - time.monotonic() - reserve)


def _tok_key(opts: AppOptions, manifest: RepositoryManifest) -> tuple[str, int, int]:
    path = opts.manifest_path.parent / manifest.tokenizer
    return (str(path), manifest.max_length, manifest.max_chars)
