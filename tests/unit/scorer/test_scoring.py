"""BatchScorer: retries while Triton is unavailable, dead-letters a malformed batch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mira.contracts import H_DECISION, H_ERROR, H_ORIGIN, Document, RepositoryManifest
from scorer.backend import BackendError
from scorer.batcher import Batch
from scorer.messages import OutputTopics, Pending
from scorer.scoring import BatchScorer
from scorer.triton_backend import TritonUnavailable, classify

TOPICS = OutputTopics("acc", "rej", "dlq")
MANIFEST = RepositoryManifest.model_validate({
    "groups": {"code": {"model": "mira_code", "version": 3, "anchors": ["a", "b"],
                        "weights": [0.5, 0.5], "rubric_version": "r1"}},
    "source_groups": {"s": "code"}, "thresholds": {"s": 2.0}, "budget": 0.5,
    "tokenizer": "t.json", "max_length": 16, "max_chars": 100,
})


class FakeTokens:
    key = ("t", 16, 100)

    async def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(texts)
        return np.ones((n, 4), np.int64), np.ones((n, 4), np.int64)

    def close(self) -> None:
        pass


class FakeTriton:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls: list[tuple[str, str]] = []

    async def score(self, model: str, version: str, ids: np.ndarray, mask: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append((model, version))
        if self.failures:
            raise self.failures.pop(0)
        n = len(ids)
        return np.tile(np.array([[1.0, 4.0]], np.float32), (n, 1)), np.array(
            [1.0 + 2.0 * i for i in range(n)], np.float32)


def _batch(n: int) -> Batch[Pending]:
    items = []
    for i in range(n):
        rec = SimpleNamespace(topic="in", partition=0, offset=i, key=f"k{i}".encode(),
                              value=b"{}", headers=[], timestamp=1)
        items.append(Pending(rec, Document(id=f"k{i}", source="s", text="t"), None))
    return Batch("code", items, 0.0)


def _run(triton: FakeTriton, n: int = 2) -> tuple[BatchScorer, list[Any]]:
    bs = BatchScorer(triton, FakeTokens(), TOPICS)  # type: ignore[arg-type]
    return bs, asyncio.run(bs.score(_batch(n), lambda: MANIFEST))


def test_scores_and_routes_by_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    triton = FakeTriton([])
    _, outs = _run(triton)
    assert triton.calls == [("mira_code", "3")]
    assert [o.topic for o in outs] == ["rej", "acc"]  # scores 1.0 < 2.0 <= 3.0
    body = json.loads(outs[1].value)
    assert body["mira"]["anchors"] == {"a": 1.0, "b": 4.0}
    assert dict(outs[1].headers)[H_DECISION] == b"accept"


def test_retries_while_unavailable_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scorer.scoring.Backoff", lambda *a: _NoWait())
    triton = FakeTriton([TritonUnavailable("down"), TritonUnavailable("down")])
    bs, outs = _run(triton)
    assert len(triton.calls) == 3 and bs.healthy
    assert all(o.kind != "dead" for o in outs)


def test_malformed_batch_is_dead_lettered_with_origin() -> None:
    _, outs = _run(FakeTriton([BackendError("INVALID_ARGUMENT: bad shape")]))
    assert [o.topic for o in outs] == ["dlq", "dlq"]
    headers = dict(outs[0].headers)
    assert headers[H_ERROR] == b"inference_failed" and headers[H_ORIGIN] == b"in/0/0"
    assert outs[0].value == b"{}"  # original bytes


def test_classify_grpc_codes() -> None:
    class E(Exception):
        def __init__(self, code: str) -> None:
            self.code = code

        def status(self) -> str:
            return self.code

        def message(self) -> str:
            return "msg"

    assert isinstance(classify(E("StatusCode.UNAVAILABLE")), TritonUnavailable)
    assert isinstance(classify(E("StatusCode.INVALID_ARGUMENT")), BackendError)
    assert isinstance(classify(RuntimeError("socket")), TritonUnavailable)


class _NoWait:
    def next_delay(self) -> float:
        return 0.0
