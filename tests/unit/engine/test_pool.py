"""TritonPool with fake endpoints: readiness, balancing, failures, membership, rollout."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from mira.engine.backend import BackendUnavailable, ModelRef
from mira.engine.triton import Ambiguous
from tests.unit.engine.fake_triton import IDS, V1, V2, Cluster, run


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
