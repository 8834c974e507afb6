"""TritonPool with fake endpoints: resolution, readiness, balancing, failures, rollout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import pytest

from mira.engine.backend import BackendUnavailable, ModelRef
from mira.engine.build import grpc_kwargs
from mira.engine.pool import TritonPool, address, is_ip
from mira.engine.triton import Ambiguous
from mira.settings import TritonSettings

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


def test_requests_spread_evenly_over_every_resolved_address() -> None:
    cluster = Cluster(3)

    async def main() -> None:
        pool = cluster.pool()
        for _ in range(30):
            await pool.score(V1, IDS, IDS)
        assert [s.scored for s in cluster.servers.values()] == [10, 10, 10]
        assert {h for _, h in cluster.connected} == {"mira-triton-headless"}
        assert await pool.is_ready()
        await pool.close()
        assert all(s.closed for s in cluster.servers.values())

    run(main)


def test_each_model_is_spread_even_when_groups_alternate() -> None:
    cluster = Cluster(2)
    prose = ModelRef("mira_prose", 1)
    served: dict[tuple[str, str], int] = {}
    for server in cluster.servers.values():
        server.loaded.add(prose)

        async def score(model: ModelRef, ids: Any, mask: Any, addr: str = server.addr) -> Any:
            served[(addr, model.name)] = served.get((addr, model.name), 0) + 1
            return np.zeros((len(ids), 1), np.float32), np.zeros(len(ids), np.float32)

        server.score = score  # type: ignore[method-assign]

    async def main() -> None:
        pool = cluster.pool({V1, prose})
        for _ in range(10):
            await pool.score(V1, IDS, IDS)
            await pool.score(prose, IDS, IDS)
        assert set(served.values()) == {5}, served
        await pool.close()

    run(main)


def test_least_in_flight_endpoint_gets_the_next_request() -> None:
    cluster = Cluster(2)
    slow = cluster.servers["10.0.0.1:8001"]

    async def main() -> None:
        pool = cluster.pool()
        await pool.is_ready()
        slow.gate = asyncio.Event()
        held = [asyncio.create_task(pool.score(V1, IDS, IDS)) for _ in range(2)]
        await asyncio.sleep(0.01)  # one answered at once, the other waits on the slow one
        for _ in range(4):
            await pool.score(V1, IDS, IDS)  # the free endpoint answers at once
        slow.gate.set()
        await asyncio.gather(*held)
        assert slow.scored == 1 and cluster.servers["10.0.0.2:8001"].scored == 5
        await pool.close()

    run(main)


def test_an_endpoint_that_fails_is_set_aside_and_comes_back() -> None:
    cluster = Cluster(2)
    bad = cluster.servers["10.0.0.2:8001"]

    async def main() -> None:
        pool = cluster.pool()
        await pool.is_ready()
        bad.alive = False
        failures = 0
        for _ in range(10):
            try:
                await pool.score(V1, IDS, IDS)
            except BackendUnavailable:
                failures += 1
        assert failures <= 1, "one failure sets the endpoint aside"
        assert not pool.endpoints["10.0.0.2:8001"].up
        bad.alive = True
        await pool.refresh()
        assert pool.endpoints["10.0.0.2:8001"].up
        before = bad.scored
        for _ in range(4):
            await pool.score(V1, IDS, IDS)
        assert bad.scored - before == 2
        await pool.close()

    run(main)


def test_ambiguous_errors_do_not_set_an_endpoint_aside() -> None:
    cluster = Cluster(1)
    server = cluster.servers["10.0.0.1:8001"]

    async def internal(*_: Any) -> Any:
        raise Ambiguous("INTERNAL: maybe the batch")

    async def main() -> None:
        pool = cluster.pool()
        server.score = internal  # type: ignore[method-assign]
        with pytest.raises(Ambiguous):
            await pool.score(V1, IDS, IDS)
        assert pool.endpoints["10.0.0.1:8001"].up
        await pool.close()

    run(main)


def test_membership_follows_dns_and_survives_a_dns_outage() -> None:
    cluster = Cluster(2)

    async def main() -> None:
        pool = cluster.pool()
        await pool.is_ready()
        assert sorted(pool.endpoints) == ["10.0.0.1:8001", "10.0.0.2:8001"]
        cluster.dns = None  # resolver down: keep the endpoints we have
        await pool.refresh()
        assert len(pool.endpoints) == 2
        cluster.dns = ["10.0.0.2:8001"]  # pod 1 gone
        await pool.refresh()
        assert list(pool.endpoints) == ["10.0.0.2:8001"]
        assert cluster.servers["10.0.0.1:8001"].closed
        new = cluster.add("10.0.0.3:8001", {V1})
        await pool.refresh()
        await pool.score(V1, IDS, IDS)
        await pool.score(V1, IDS, IDS)
        assert new.scored == 1
        await pool.close()

    run(main)


def test_a_removed_endpoint_is_closed_only_after_its_last_request() -> None:
    cluster = Cluster(1)
    server = cluster.servers["10.0.0.1:8001"]

    async def main() -> None:
        pool = cluster.pool()
        await pool.is_ready()
        server.gate = asyncio.Event()
        task = asyncio.create_task(pool.score(V1, IDS, IDS))
        await asyncio.sleep(0.01)
        cluster.dns = []
        await pool.refresh()
        assert not server.closed, "a request is still running on it"
        server.gate.set()
        await task
        await pool.refresh()
        assert server.closed
        assert not await pool.is_ready()
        await pool.close()

    run(main)


def test_an_endpoint_lacking_a_version_in_use_gets_no_request_for_it() -> None:
    cluster = Cluster(1)
    late = cluster.add("10.0.0.9:8001", set())  # up, but v1 not loaded (yet)

    async def main() -> None:
        pool = cluster.pool()
        assert await pool.is_ready()
        for _ in range(6):
            await pool.score(V1, IDS, IDS)
        assert late.scored == 0 and cluster.servers["10.0.0.1:8001"].scored == 6
        late.loaded.add(V1)
        await pool.refresh()
        for _ in range(6):
            await pool.score(V1, IDS, IDS)
        assert late.scored == 3
        await pool.close()

    run(main)


def test_rollout_loads_on_every_endpoint_and_is_ready_only_when_all_are() -> None:
    cluster = Cluster(3)
    cluster.repo.add(V2)
    slow = cluster.servers["10.0.0.3:8001"]
    slow.load_delay = 0.05

    async def main() -> None:
        pool = cluster.pool()
        await pool.is_ready()
        loading = asyncio.create_task(pool.load_model("mira_code", 2))
        await asyncio.sleep(0.01)
        assert not await pool.model_ready("mira_code", "2"), "one endpoint is still loading"
        # requests still name v1 meanwhile, and all of them succeed
        for _ in range(3):
            await pool.score(V1, IDS, IDS)
        await loading
        assert await pool.model_ready("mira_code", "2")
        assert [s.loads[-1] for s in cluster.servers.values()] == ["mira_code"] * 3
        pool.expect({V2})
        for _ in range(3):
            await pool.score(V2, IDS, IDS)
        assert all(s.scored == 2 for s in cluster.servers.values())
        # a second scorer rolling out the same version loads nothing again
        before = [len(s.loads) for s in cluster.servers.values()]
        await pool.load_model("mira_code", 2)
        assert [len(s.loads) for s in cluster.servers.values()] == before
        await pool.close()

    run(main)


def test_rollout_failure_on_one_endpoint_is_reported() -> None:
    cluster = Cluster(2)

    async def refuse(model: str) -> None:
        raise RuntimeError("explicit model control is off")

    async def main() -> None:
        pool = cluster.pool()
        cluster.servers["10.0.0.2:8001"].load_model = refuse  # type: ignore[method-assign]
        with pytest.raises(BackendUnavailable, match=r"10\.0\.0\.2:8001"):
            await pool.load_model("mira_code", 2)
        assert not await pool.model_ready("mira_code", "2")
        await pool.close()

    run(main)


def test_no_endpoint_up_means_not_ready_and_unavailable() -> None:
    cluster = Cluster(2)
    for server in cluster.servers.values():
        server.alive = False

    async def main() -> None:
        pool = cluster.pool()
        assert not await pool.is_ready()
        with pytest.raises(BackendUnavailable, match="0 of 2 endpoints up"):
            await pool.score(V1, IDS, IDS)
        assert not await pool.model_ready("mira_code", "1")
        await pool.close()

    run(main)


def test_grpc_url_targets_and_addresses() -> None:
    ts = TritonSettings(grpc_url="mira-triton-headless:8001, 127.0.0.1:9001,[::1]:9002")
    assert ts.grpc_targets() == [("mira-triton-headless", 8001), ("127.0.0.1", 9001), ("::1", 9002)]
    assert address("::1", 9002) == "[::1]:9002" and address("10.0.0.1", 1) == "10.0.0.1:1"
    assert is_ip("::1") and is_ip("10.1.2.3") and not is_ip("mira-triton-headless")
    for bad in ("triton", "host:", ":8001", "a:b", "a:8001,,b:1", "a:70000"):
        with pytest.raises(ValueError, match="not host:port"):
            TritonSettings(grpc_url=bad)


def test_tls_verifies_a_resolved_address_against_its_host_name() -> None:
    plain = TritonSettings()
    assert grpc_kwargs(plain, "mira-triton-headless") == {}
    tls = TritonSettings(ssl=True)
    assert "channel_args" not in grpc_kwargs(tls, "10.0.0.1")
    args = dict(grpc_kwargs(tls, "mira-triton-headless")["channel_args"])
    assert args["grpc.ssl_target_name_override"] == "mira-triton-headless"
    assert args["grpc.max_receive_message_length"] > 1 << 30  # tritonclient's defaults kept


def test_real_resolver_resolves_loopback() -> None:
    from mira.engine.pool import resolve

    assert asyncio.run(resolve("127.0.0.1", 8001)) == ["127.0.0.1:8001"]
