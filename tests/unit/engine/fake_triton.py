"""Fake Triton endpoints for the pool tests: servers with versions, and the DNS in front."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from mira.engine.backend import BackendUnavailable, ModelRef
from mira.engine.pool import TritonPool

V1, V2 = ModelRef("mira_code", 1), ModelRef("mira_code", 2)
IDS = np.zeros((2, 4), dtype=np.int64)


class FakeTriton:
    """One endpoint: which versions it serves, whether it answers, what it was asked."""

    def __init__(self, addr: str, loaded: set[ModelRef], repo: set[ModelRef]) -> None:
        self.addr = addr
        self.loaded = set(loaded)
        self.repo = repo  # versions a load_model would bring up
        self.alive = True
        self.scored = 0
        self.loads: list[str] = []
        self.closed = False
        self.gate: asyncio.Event | None = None  # holds score() until set
        self.load_delay = 0.0

    async def score(
        self, model: ModelRef, ids: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self.alive or model not in self.loaded:
            raise BackendUnavailable(f"{self.addr}: UNAVAILABLE")
        if self.gate is not None:
            await self.gate.wait()
        self.scored += 1
        return np.zeros((len(ids), 1), np.float32), np.zeros(len(ids), np.float32)

    async def is_live(self) -> bool:
        return self.alive

    async def model_ready(self, model: str, version: str) -> bool:
        return self.alive and ModelRef(model, int(version)) in self.loaded

    async def load_model(self, model: str) -> None:
        self.loads.append(model)
        await asyncio.sleep(self.load_delay)
        self.loaded |= {r for r in self.repo if r.name == model}

    async def close(self) -> None:
        self.closed = True


class Cluster:
    """A DNS name -> addresses map and the fake servers behind the addresses."""

    def __init__(self, n: int, loaded: set[ModelRef] | None = None) -> None:
        self.repo = {V1}
        self.servers = {
            f"10.0.0.{i}:8001": FakeTriton(f"10.0.0.{i}:8001", loaded or {V1}, self.repo)
            for i in range(1, n + 1)
        }
        self.dns: list[str] | None = list(self.servers)
        self.connected: list[tuple[str, str]] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        if self.dns is None:
            raise OSError("Temporary failure in name resolution")
        return list(self.dns)

    def connect(self, addr: str, host: str) -> FakeTriton:
        self.connected.append((addr, host))
        return self.servers[addr]

    def add(self, addr: str, loaded: set[ModelRef]) -> FakeTriton:
        self.servers[addr] = FakeTriton(addr, loaded, self.repo)
        assert self.dns is not None
        self.dns.append(addr)
        return self.servers[addr]

    def pool(self, expected: set[ModelRef] | None = None) -> TritonPool:
        return TritonPool(
            [("mira-triton-headless", 8001)],
            self.connect,
            60.0,
            expected if expected is not None else {V1},
            self.resolve,
        )


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(main())
