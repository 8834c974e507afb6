"""Every Triton replica behind one ScoringBackend: client-side balancing and rollouts on all.

``triton.grpc_url`` names ``host:port`` targets (comma-separated).  Every ``refresh_s`` each host
is resolved again (a Kubernetes headless Service answers with every ready Triton pod) and each
address is checked: server live, and every model version in use (``expect``) ready.  There is
one client per address.  A request goes to the endpoint with the fewest requests in flight among
those where its model version is confirmed ready (round-robin between equals); an endpoint whose
request fails as unavailable is set aside and checked again at once.

Rollout (driven by ``scorer.reload.activate``): ``load_model`` loads a version on every endpoint
that is up and lacks it; ``model_ready`` is True only when every endpoint that is up has it
ready.  The scorer switches to the version only then, so no request names a version that a
replica lacks, and the previous version stays in use (and loaded) until that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from mira import metrics
from mira.engine.backend import BackendUnavailable, ModelRef
from mira.engine.endpoints import Connect, Endpoint, Resolve, resolve
from mira.engine.triton import Ambiguous

log = logging.getLogger(__name__)
RECHECK_MIN_S = 1.0  # an out-of-turn refresh (after a failure) runs at most this often


class TritonPool:
    """A ScoringBackend over every address of ``targets``; also the reloader's model control."""

    def __init__(
        self,
        targets: Iterable[tuple[str, int]],
        connect: Connect,
        refresh_s: float,
        expected: Iterable[ModelRef],
        resolver: Resolve = resolve,
    ) -> None:
        self.targets = list(targets)
        self.refresh_s = refresh_s
        self.expected = set(expected)
        self.endpoints: dict[str, Endpoint] = {}
        self._connect = connect
        self._resolve = resolver
        self._retiring: list[Endpoint] = []
        self._turns: dict[ModelRef, int] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._last_refresh = float("-inf")
        self._start_lock = asyncio.Lock()

    # ------------------------------------------------------------------ scoring
    async def score(
        self, model: ModelRef, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        await self._started()
        ep = self._pick(model) or await self._confirm(model)
        if ep is None:
            self._kick()
            raise BackendUnavailable(
                f"no Triton endpoint has {model.name} v{model.version} ready ({self._summary()})"
            )
        ep.in_flight += 1
        try:
            result = await ep.client.score(model, input_ids, attention_mask)
        except BackendUnavailable as exc:
            self._count_request(ep, "error")
            if not isinstance(exc, Ambiguous):  # down, or the version is not loaded there
                self._set_aside(ep, exc)
            raise
        finally:
            ep.in_flight -= 1
        self._count_request(ep, "ok")
        return result

    def _count_request(self, ep: Endpoint, result: str) -> None:
        if self.endpoints.get(ep.address) is ep:  # a removed endpoint's series stays removed
            metrics.TRITON_ENDPOINT_REQUESTS.labels(ep.address, result).inc()

    def _pick(self, model: ModelRef) -> Endpoint | None:
        """Fewest requests in flight among the endpoints ready for ``model``; ties in turn
        (round-robin per model version)."""
        ready = [ep for ep in self.endpoints.values() if ep.up and model in ep.ready]
        if not ready:
            return None
        turn = self._turns[model] = self._turns.get(model, -1) + 1  # per model: interleaved
        start = turn % len(ready)  # groups must not fall into step with one endpoint each
        return min(ready[start:] + ready[:start], key=lambda ep: ep.in_flight)

    async def _confirm(self, model: ModelRef) -> Endpoint | None:
        """Ask every endpoint that is up about a version no endpoint has confirmed yet."""
        await asyncio.gather(*(self._check_model(ep, model) for ep in self._up()))
        return self._pick(model)

    def _set_aside(self, ep: Endpoint, exc: Exception) -> None:
        if ep.up:
            log.warning("triton endpoint %s set aside: %s", ep.address, exc)
        ep.up = False
        ep.ready.clear()
        self._count()
        self._kick()

    # ------------------------------------------------------------------ readiness
    async def is_ready(self) -> bool:
        """Every model version in use is ready on at least one endpoint that is up."""
        await self._started()
        up = self._up()
        ok = bool(up) and all(any(ref in ep.ready for ep in up) for ref in self.expected)
        if not ok:
            self._kick()
        return ok

    def expect(self, refs: Iterable[ModelRef]) -> None:
        """The model versions requests name from now on (checked on every endpoint)."""
        self.expected = set(refs)

    # ------------------------------------------------------------------ rollout
    async def load_model(self, model: str, version: int) -> None:
        """Load ``model`` on every endpoint that is up and does not have ``version`` ready."""
        await self._started()
        ref = ModelRef(model, version)
        up = self._up()
        have = await asyncio.gather(*(self._check_model(ep, ref) for ep in up))
        todo = [ep for ep, ok in zip(up, have, strict=True) if not ok]
        results = await asyncio.gather(
            *(ep.client.load_model(model) for ep in todo), return_exceptions=True
        )
        failed = [
            f"{ep.address}: {r}"
            for ep, r in zip(todo, results, strict=True)
            if isinstance(r, Exception)
        ]
        log.info("loading %s v%d on %d of %d endpoints", model, version, len(todo), len(up))
        if failed:
            raise BackendUnavailable(f"loading {model} failed on {'; '.join(failed)}")

    async def model_ready(self, model: str, version: str) -> bool:
        """True when every endpoint that is up (at least one) has ``model`` ``version`` ready."""
        await self._started()
        up = self._up()
        ref = ModelRef(model, int(version))
        have = await asyncio.gather(*(self._check_model(ep, ref) for ep in up))
        return bool(up) and all(have)

    async def _check_model(self, ep: Endpoint, ref: ModelRef) -> bool:
        if ref in ep.ready:
            return True
        if await ep.client.model_ready(ref.name, str(ref.version)):
            ep.ready.add(ref)
            return True
        return False

    # ------------------------------------------------------------------ membership
    async def refresh(self) -> None:
        """Resolve every target again, then check every endpoint (one refresh at a time)."""
        if self._refreshing is None or self._refreshing.done():
            self._last_refresh = time.monotonic()
            self._refreshing = asyncio.create_task(self._refresh())
        await asyncio.shield(self._refreshing)

    async def _refresh(self) -> None:
        try:
            await self._resolve_and_check()
        except Exception:  # a refresh never fails its callers: the next one tries again
            log.exception("triton endpoint refresh failed")

    async def _resolve_and_check(self) -> None:
        found: dict[str, str] = {}
        for host, port in self.targets:
            try:
                found.update((a, host) for a in await self._resolve(host, port))
            except OSError as exc:  # DNS down or no ready pod: keep what that host had
                log.warning("cannot resolve triton host %s: %s", host, exc)
                found.update((a, ep.host) for a, ep in self.endpoints.items() if ep.host == host)
        for addr in set(self.endpoints) - set(found):
            self._retire(self.endpoints.pop(addr))
        for addr in sorted(set(found) - set(self.endpoints)):
            self.endpoints[addr] = Endpoint(addr, found[addr], self._connect(addr, found[addr]))
            log.info("triton endpoint %s added (%s)", addr, found[addr])
        await asyncio.gather(*(self._check(ep) for ep in list(self.endpoints.values())))
        await self._close_retired()
        self._count()

    async def _check(self, ep: Endpoint) -> None:
        # live, not "ready": with strict readiness a server reports not ready while it loads a
        # version, which is when a rollout needs it most; readiness per version is checked below
        up = await ep.client.is_live()
        if up != ep.up:
            log.log(
                logging.INFO if up else logging.WARNING,
                "triton endpoint %s is %s",
                ep.address,
                "up" if up else "down",
            )
        ep.up = up
        if not up:
            ep.ready.clear()
            return
        lacking = set()
        for ref in sorted(self.expected - ep.ready, key=lambda r: (r.name, r.version)):
            if not await self._check_model(ep, ref):
                lacking.add(ref)
        for ref in lacking - ep.lacking:
            log.warning(
                "triton endpoint %s lacks %s v%d: no request for it goes there",
                ep.address,
                ref.name,
                ref.version,
            )
        ep.lacking = lacking

    def _retire(self, ep: Endpoint) -> None:
        log.info("triton endpoint %s removed", ep.address)
        ep.up = False
        self._retiring.append(ep)
        for result in ("ok", "error"):
            with contextlib.suppress(KeyError):
                metrics.TRITON_ENDPOINT_REQUESTS.remove(ep.address, result)

    async def _close_retired(self) -> None:
        """Close removed endpoints once their last request has returned."""
        idle = [ep for ep in self._retiring if ep.in_flight == 0]
        self._retiring = [ep for ep in self._retiring if ep.in_flight]
        for ep in idle:
            with contextlib.suppress(Exception):  # closing a dead channel may complain
                await ep.client.close()

    def _up(self) -> list[Endpoint]:
        return [ep for ep in self.endpoints.values() if ep.up]

    def _count(self) -> None:
        up = len(self._up())
        metrics.TRITON_ENDPOINTS.labels("up").set(up)
        metrics.TRITON_ENDPOINTS.labels("down").set(len(self.endpoints) - up)

    def _summary(self) -> str:
        return f"{len(self._up())} of {len(self.endpoints)} endpoints up"

    # ------------------------------------------------------------------ lifecycle
    async def _started(self) -> None:
        """The first call resolves and checks every endpoint, then starts the refresh loop."""
        if self._loop_task is not None:
            return
        async with self._start_lock:
            if self._loop_task is None:
                await self.refresh()
                self._loop_task = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            await self.refresh()

    def _kick(self) -> None:
        """An early refresh after a failure (at most every RECHECK_MIN_S)."""
        busy = self._refreshing is not None and not self._refreshing.done()
        if busy or time.monotonic() - self._last_refresh < RECHECK_MIN_S:
            return
        self._last_refresh = time.monotonic()
        self._refreshing = asyncio.create_task(self._refresh())

    async def close(self) -> None:
        for task in (self._loop_task, self._refreshing):
            if task is not None:
                task.cancel()
        clients: list[Any] = [ep.client for ep in [*self.endpoints.values(), *self._retiring]]
        self.endpoints.clear()
        self._retiring.clear()
        for client in clients:
            await client.close()
