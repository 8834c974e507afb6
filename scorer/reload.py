"""Hot reload: notice a changed manifest, load new model versions in Triton, then switch.

``ManifestWatcher`` polls the file's mtime and size and confirms a change by content hash; a
manifest that does not parse is reported and ignored (the old one stays in use).  A new model
version is loaded on EVERY Triton endpoint (explicit model control) and the scorer switches to it
only when every endpoint reports it ready; until then requests keep naming the old version, so
no request is sent to a replica that lacks its version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, cast

from mira import metrics
from mira.contracts import RepositoryManifest
from mira.engine.backend import ModelRef
from mira.engine.build import model_refs, tokenizer_pool
from mira.engine.engine import Engine
from mira.repository import ManifestError, load_manifest, verify_models
from mira.settings import MiraSettings

log = logging.getLogger(__name__)


class ModelControl(Protocol):
    """What the reloader needs of the backend (``mira.engine.pool.TritonPool``)."""

    async def is_ready(self) -> bool: ...

    async def load_model(self, model: str, version: int) -> None: ...

    async def model_ready(self, model: str, version: str) -> bool: ...

    def expect(self, refs: Iterable[ModelRef]) -> None: ...


class ManifestWatcher:
    def __init__(self, path: Path, digest: str) -> None:
        self.path = Path(path)
        self.digest = digest
        self._stat = self._stat_key()

    def _stat_key(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def poll(self) -> tuple[RepositoryManifest, str] | None:
        """A new valid manifest when the file changed since the last accepted one, else None."""
        key = self._stat_key()
        if key is None or key == self._stat:
            return None
        try:
            manifest, digest = load_manifest(self.path)
        except ManifestError as exc:
            log.error("%s (keeping the current manifest)", exc)
            self._stat = key
            return None
        if digest == self.digest:
            self._stat = key
            return None
        return manifest, digest

    def accept(self, digest: str) -> None:
        """Mark a polled manifest as in use (until then ``poll`` keeps offering it)."""
        self.digest = digest
        self._stat = self._stat_key()


def model_changes(old: RepositoryManifest, new: RepositoryManifest) -> dict[str, tuple[str, int]]:
    """Groups of ``new`` whose model name or version differs from ``old``: group -> (model, v)."""
    out: dict[str, tuple[str, int]] = {}
    for group, gm in new.groups.items():
        prev = old.groups.get(group)
        if prev is None or (prev.model, prev.version) != (gm.model, gm.version):
            out[group] = (gm.model, gm.version)
    return out


async def activate(
    changes: dict[str, tuple[str, int]],
    load: Callable[[str, int], Awaitable[None]],
    ready: Callable[[str, str], Awaitable[bool]],
    timeout_s: float,
    poll_s: float = 0.2,
) -> bool:
    """Load every changed model version (on every endpoint) and wait until each is ready (on
    every endpoint); False on timeout."""
    for model, version in changes.values():
        try:
            await load(model, version)
        except Exception as exc:  # Triton not in explicit mode: it may load the version itself
            log.warning("load_model(%s) failed: %s; waiting for version %d", model, exc, version)
    deadline = time.monotonic() + timeout_s
    pending = set(changes.values())
    while pending:
        for model, version in list(pending):
            if await ready(model, str(version)):
                pending.discard((model, version))
        if not pending:
            break
        if time.monotonic() >= deadline:
            log.error("model versions not ready after %.0f s: %s", timeout_s, sorted(pending))
            return False
        await asyncio.sleep(poll_s)
    return True


class Reloader:
    """The app's side tasks: manifest reload (verified, activated in Triton) and Triton probe.

    A reload that fails (invalid manifest, tampered model, version not ready) is counted and
    logged, the old manifest stays in use, and the next poll tries again: the loop never ends
    because of a bad manifest.
    """

    def __init__(
        self,
        settings: MiraSettings,
        engine: Engine,
        current: Callable[[], RepositoryManifest],
        digest: str,
        switch: Callable[[RepositoryManifest], None],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.current = current
        self.switch = switch
        self.repo = settings.scorer.manifest.parent
        self.watcher = ManifestWatcher(settings.scorer.manifest, digest)
        self.probe_ok = True
        self._old_pools: list[Any] = []

    def close(self) -> None:
        for pool in self._old_pools:
            pool.close()

    def backend_ok(self) -> bool:
        return self.probe_ok and self.engine.healthy

    @property
    def control(self) -> ModelControl:
        return cast(ModelControl, self.engine.backend)

    async def probe_loop(self, ready: Callable[[], bool]) -> None:
        backend = self.control
        while True:
            ok = bool(await backend.is_ready())
            if ok != self.probe_ok:
                log.warning("triton %s", "is ready again" if ok else "is not ready")
            self.probe_ok = ok
            ready()
            await asyncio.sleep(self.settings.scorer.probe_interval_s if ok else 1.0)

    async def reload_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.scorer.reload_interval_s)
            polled = self.watcher.poll()
            if polled is None:
                continue
            try:
                await self.apply(*polled)
            except (ManifestError, OSError, ValueError) as exc:
                metrics.MANIFEST_RELOADS.labels("failed").inc()
                log.error("manifest reload failed, keeping the current one: %s", exc)

    async def apply(self, new: RepositoryManifest, digest: str) -> None:
        old = self.current()
        verify_models(self.repo, new)
        changes = model_changes(old, new)
        control = self.control
        if changes and not await activate(
            changes, control.load_model, control.model_ready, self.settings.scorer.rollout_timeout_s
        ):
            raise ManifestError(
                f"model versions not ready on every Triton endpoint: {sorted(changes)}"
            )
        if (new.tokenizer, new.max_length, new.max_chars) != (
            old.tokenizer,
            old.max_length,
            old.max_chars,
        ):
            self._old_pools.append(self.engine.tokens)
            self.engine.tokens = tokenizer_pool(
                self.repo, new, self.settings.scorer.tokenizer_workers
            )
        self.switch(new)
        control.expect(model_refs(new))
        self.watcher.accept(digest)
        metrics.MANIFEST_RELOADS.labels("ok").inc()
        for group, gm in new.groups.items():
            metrics.MODEL_VERSION.labels(group).set(gm.version)
        log.info("manifest reloaded (%d model changes: %s)", len(changes), sorted(changes))
