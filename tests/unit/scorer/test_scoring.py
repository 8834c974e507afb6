"""The scorer's document flow: every consumed record becomes exactly one output message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from mira.contracts import H_DECISION, H_ERROR, H_ORIGIN
from mira.engine.backend import BackendUnavailable, ModelRef
from mira.engine.build import tokenizer_pool
from mira.engine.engine import Engine, RetryPolicy
from mira.repository import load_manifest
from mira.settings import EngineSettings, MiraSettings
from scorer.delivery import OutMessage
from scorer.offsets import OffsetTracker
from scorer.scoring import Scoring
from tests.fixtures.hostile import hostile_cases
from tests.unit.engine.tiny_onnx import tiny_repo


class Backend:
    """Scores = attended tokens; scripted failures first."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.calls = 0

    async def score(
        self, model: ModelRef, ids: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        n = mask.sum(axis=1).astype(np.float32)
        return np.stack([n, n], axis=1), n

    async def close(self) -> None:
        pass


def record(offset: int, value: bytes | None) -> Any:
    return SimpleNamespace(
        topic="in",
        partition=0,
        offset=offset,
        key=f"k{offset}".encode(),
        value=value,
        headers=[("trace", b"1")],
        timestamp=1,
    )


def flow(tmp_path: Path, backend: Backend) -> tuple[Scoring, OffsetTracker[Any, OutMessage]]:
    repo = tiny_repo(tmp_path / "repo")
    manifest, _ = load_manifest(repo / "mira_manifest.json")
    settings = MiraSettings(
        engine=EngineSettings(retry_initial_s=0.001, retry_max_s=0.002, ambiguous_retries=1)
    )
    engine = Engine(backend, tokenizer_pool(repo, manifest, 1), RetryPolicy(0.001, 0.002, None, 1))
    tracker: OffsetTracker[Any, OutMessage] = OffsetTracker()
    return Scoring(settings, engine, lambda: manifest, tracker), tracker


def run_all(scoring: Scoring, records: list[Any]) -> list[OutMessage]:
    async def main() -> None:
        for rec in records:
            scoring.accept(rec, 0.0)
        scoring.dispatch(scoring.batcher.drain())
        await asyncio.gather(*scoring.tasks)

    asyncio.run(main())
    ready = scoring.tracker.pop_ready()
    return [m for r in ready.values() for _, m in r.items]


def good(i: int, text: str = "one two") -> bytes:
    return json.dumps({"id": f"d{i}", "source": "s1", "text": text}).encode()


def test_scored_and_dead_lettered_outputs_in_offset_order(tmp_path: Path) -> None:
    scoring, _ = flow(tmp_path, Backend())
    outs = run_all(
        scoring,
        [
            record(0, good(0)),
            record(1, b"{oops"),
            record(2, None),
            record(3, good(3, "a b c d e f g h")),
        ],
    )
    assert [o.kind for o in outs] == ["reject", "dead", "dead", "accept"]
    assert [o.topic for o in outs] == ["mira.rejected", "mira.dlq", "mira.dlq", "mira.accepted"]
    dead = dict(outs[1].headers)
    assert dead[H_ERROR] == b"invalid_json" and dead[H_ORIGIN] == b"in/0/1"
    assert dead["trace"] == b"1" and outs[1].value == b"{oops"  # original bytes and headers
    assert dict(outs[2].headers)[H_ERROR] == b"blank"
    assert dict(outs[3].headers)[H_DECISION] == b"accept"


def test_every_hostile_record_gets_one_output_with_its_reason(tmp_path: Path) -> None:
    cases = hostile_cases("s1", MiraSettings().document.max_bytes)
    scoring, _ = flow(tmp_path, Backend())
    outs = run_all(scoring, [record(i, c.raw) for i, c in enumerate(cases)])
    assert len(outs) == len(cases)
    for case, out in zip(cases, outs, strict=True):
        if case.reason is None:
            assert out.kind in ("accept", "reject"), case.name
        else:
            assert dict(out.headers)[H_ERROR] == case.reason.value.encode(), case.name


def test_backend_outage_waits_and_never_dead_letters(tmp_path: Path) -> None:
    backend = Backend([BackendUnavailable("down")] * 4)
    scoring, _ = flow(tmp_path, backend)
    outs = run_all(scoring, [record(i, good(i)) for i in range(3)])
    assert [o.kind for o in outs] == ["reject"] * 3 and backend.calls == 5
    assert scoring.engine.healthy


def test_an_unexpected_error_is_bounded_then_documents_go_alone(tmp_path: Path) -> None:
    backend = Backend([ValueError("bug")] * 2)  # a bug, twice: then one document at a time
    scoring, _ = flow(tmp_path, backend)
    outs = run_all(scoring, [record(i, good(i)) for i in range(2)])
    assert [o.kind for o in outs] == ["reject", "reject"]
