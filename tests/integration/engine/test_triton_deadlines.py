"""A timed-out request never multiplies Triton's work: the real server, the exported model.py
and config (queue policy), slowed down so requests pass their deadlines.

Six batches are sent at once (three in flight) to one instance that takes 0.6 s per request,
with deadlines that let about two requests finish: the rest are rejected from Triton's queue,
cancelled before they run, or pass their deadline while running and hold their slot.
Every batch is scored in the end, and no batch ever runs twice at the same time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from discovery.export.repository import MODEL_PY
from discovery.export.triton_config import config_pbtxt
from mira import metrics
from mira.engine.backend import ModelRef
from mira.engine.engine import Engine, RetryPolicy
from mira.engine.triton import Deadline, TritonBackend
from tests.integration.streaming.tiny_repo import K, onnx_model

pytestmark = pytest.mark.integration
SLOW_S = 0.6
N, L = 4, 8  # every batch: 4 documents x 8 tokens

SLOW_WRAPPER = """

import time as _time

_run_fast = TritonPythonModel._run


def _run_slow(self, request):
    ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
    began = _time.time()
    _time.sleep({slow})
    with open({log!r}, "a") as fh:
        fh.write(f"{{int(ids[0, 1])}} {{began:.3f}} {{_time.time():.3f}}\\n")
    return _run_fast(self, request)


TritonPythonModel._run = _run_slow
"""


def slow_repo(root: Path, log: Path) -> Path:
    """The exported model.py (plus a sleep and an execution log) and the exported config."""
    vdir = root / "mira_slow" / "1"
    vdir.mkdir(parents=True)
    (vdir / "model.onnx").write_bytes(onnx_model(0, 1))
    (vdir / "model.py").write_text(
        MODEL_PY.read_text() + SLOW_WRAPPER.format(slow=SLOW_S, log=str(log))
    )
    config = config_pbtxt("mira_slow", K, "python", max_batch_size=8, queue_timeout_us=10**7)
    (root / "mira_slow" / "config.pbtxt").write_text(config)
    return root


def executions(log: Path) -> list[tuple[int, float, float]]:
    rows = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return [(int(b), float(s), float(e)) for b, s, e in rows]


def test_timed_out_requests_are_never_computed_twice_at_once(
    triton_factory: Any, tmp_path: Path
) -> None:
    log = tmp_path / "executions.log"
    server = triton_factory(slow_repo(tmp_path / "repo", log))
    server.load_model("mira_slow")
    # deadline = 0.2 + 0.4 (queue) + 0.8 (execution budget) = 1.4 s for a 4 x 8 batch; the
    # python backend runs the requests it batched together one after the other, so the third
    # of a batch passes its deadline while it runs (an overrun, the one case of wasted work)
    deadline = Deadline(base_s=0.2, queue_timeout_s=0.4, token_budget_s=0.8 / (N * L))
    before = metrics.TRITON_TIMEOUTS.labels("mira_slow")._value.get()

    async def go() -> list[Any]:
        backend = TritonBackend(server.grpc_url, 3, deadline, {})
        engine = Engine(backend, None, RetryPolicy(0.05, 0.2, None, 2))  # type: ignore[arg-type]
        try:
            batches = [np.full((N, L), 1000 + b, np.int64) for b in range(6)]
            for ids in batches:
                ids[:, 1] = ids[0, 0] - 1000  # the batch number, logged by the model
            calls = [
                engine._call(ModelRef("mira_slow", 1), K, ids, np.ones_like(ids), "slow")
                for ids in batches
            ]
            return await asyncio.wait_for(asyncio.gather(*calls), timeout=90)
        finally:
            await backend.close()

    results = asyncio.run(go())
    assert len(results) == 6 and all(r[0].shape == (N, K) for r in results)
    runs = executions(log)
    by_batch: dict[int, list[tuple[float, float]]] = {}
    for batch, began, ended in runs:
        by_batch.setdefault(batch, []).append((began, ended))
    assert sorted(by_batch) == list(range(6)), runs
    for batch, spans in by_batch.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - 0.01, f"batch {batch} ran twice at once: {spans}"
    timeouts = metrics.TRITON_TIMEOUTS.labels("mira_slow")._value.get() - before
    assert len(runs) <= 6 + timeouts, (runs, timeouts)  # only an overrun costs a second run
    print(json.dumps({"executions": len(runs), "batches": 6, "deadline_overruns": timeouts}))
