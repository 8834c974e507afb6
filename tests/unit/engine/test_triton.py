import asyncio
import time
from typing import Any

import numpy as np
import pytest

from mira import metrics
from mira.engine.backend import BackendUnavailable, BatchRejected, ModelRef
from mira.engine.engine import Engine, RetryPolicy
from mira.engine.triton import Ambiguous, Deadline, TritonBackend, classify


class E(Exception):
    def __init__(self, code: str) -> None:
        self.code = code

    def status(self) -> str:
        return self.code

    def message(self) -> str:
        return "msg"


def test_classify_grpc_codes() -> None:
    unavailable = classify(E("StatusCode.UNAVAILABLE"))
    assert isinstance(unavailable, BackendUnavailable) and not isinstance(unavailable, Ambiguous)
    assert isinstance(classify(E("StatusCode.DEADLINE_EXCEEDED")), BackendUnavailable)
    assert isinstance(classify(E("StatusCode.INTERNAL")), Ambiguous)
    assert isinstance(classify(E("StatusCode.INVALID_ARGUMENT")), BatchRejected)
    assert isinstance(classify(RuntimeError("socket")), BackendUnavailable)


# ---------------------------------------------------------------- deadlines (no multiplied work)
class DeadlineExceeded(Exception):
    def status(self) -> str:
        return "StatusCode.DEADLINE_EXCEEDED"

    def message(self) -> str:
        return "Deadline Exceeded"


class FakeClient:
    """Records each call's deadlines; calls listed in ``slow`` pass their client deadline."""

    def __init__(self, slow: set[int]) -> None:
        self.slow = slow
        self.calls: list[dict[str, Any]] = []

    async def infer(self, model_name: str, inputs: list[Any], **kw: Any) -> Any:
        call = len(self.calls)
        self.calls.append({"t": time.monotonic(), **kw})
        if call in self.slow:
            await asyncio.sleep(kw["client_timeout"])
            raise DeadlineExceeded()
        n = inputs[0].shape()[0]
        return Result(n)


class Result:
    def __init__(self, n: int) -> None:
        self.n = n

    def as_numpy(self, name: str) -> np.ndarray:
        return np.zeros((self.n, 2) if name == "anchors" else (self.n, 1), np.float32)


def _backend(
    deadline: Deadline, slow: set[int], in_flight: int = 1
) -> tuple[TritonBackend, FakeClient]:
    """Call inside a running loop (the gRPC aio channel needs one)."""
    backend = TritonBackend("127.0.0.1:1", in_flight, deadline, {})
    client = FakeClient(slow)
    backend._client = client
    return backend, client


def _batch(n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((n, length), np.int64), np.ones((n, length), np.int64)


def test_deadline_follows_batch_size_times_length() -> None:
    d = Deadline(base_s=1.0, queue_timeout_s=2.0, token_budget_s=0.001)
    assert d.client_s(64, 512) == pytest.approx(1.0 + 2.0 + 32.768)
    assert d.client_s(8, 128) == pytest.approx(1.0 + 2.0 + 1.024)
    assert d.queue_timeout_us == 2_000_000


def test_each_request_carries_its_deadline_and_queue_timeout() -> None:
    d = Deadline(base_s=1.0, queue_timeout_s=0.5, token_budget_s=0.0001)

    async def go() -> FakeClient:
        backend, client = _backend(d, slow=set())
        for n, length in ((2, 16), (32, 128)):
            await backend.score(ModelRef("m", 1), *_batch(n, length))
        return client

    client = asyncio.run(go())
    assert [c["client_timeout"] for c in client.calls] == [
        pytest.approx(d.client_s(2, 16)),
        pytest.approx(d.client_s(32, 128)),
    ]
    assert {c["timeout"] for c in client.calls} == {500_000}  # Triton's queue bound, in µs


def test_a_timed_out_request_holds_its_slot_before_anything_is_resent() -> None:
    """The first request passes its deadline; the next request (its retry, or any other) may
    start only one execution budget later, while the server might still be computing it."""
    d = Deadline(base_s=0.01, queue_timeout_s=0.01, token_budget_s=0.1 / 64)  # budget 0.1 s
    before = metrics.TRITON_TIMEOUTS.labels("m")._value.get()
    client = FakeClient(set())

    async def go() -> list[Any]:
        nonlocal client
        backend, client = _backend(d, slow={0})
        first = asyncio.create_task(backend.score(ModelRef("m", 1), *_batch(8, 8)))
        await asyncio.sleep(0)
        second = asyncio.create_task(backend.score(ModelRef("m", 1), *_batch(8, 8)))
        return await asyncio.gather(first, second, return_exceptions=True)

    first, second = asyncio.run(go())
    assert isinstance(first, BackendUnavailable) and not isinstance(second, Exception)
    gap = client.calls[1]["t"] - client.calls[0]["t"]
    assert gap >= d.client_s(8, 8) + d.execution_s(8, 8) - 0.005
    assert metrics.TRITON_TIMEOUTS.labels("m")._value.get() == before + 1


def test_engine_resends_a_timed_out_batch_only_after_the_hold() -> None:
    d = Deadline(base_s=0.01, queue_timeout_s=0.01, token_budget_s=0.2 / 32)
    ids, mask = _batch(4, 8)

    async def go() -> FakeClient:
        backend, client = _backend(d, slow={0}, in_flight=4)
        engine = Engine(backend, None, RetryPolicy(0.001, 0.002, None, 2))  # type: ignore[arg-type]
        await engine._call(ModelRef("m", 1), 2, ids, mask, "g")
        return client

    client = asyncio.run(go())
    assert len(client.calls) == 2  # the retry, once, after the deadline and the hold
    gap = client.calls[1]["t"] - client.calls[0]["t"]
    assert gap >= d.client_s(4, 8) + d.execution_s(4, 8) - 0.005
