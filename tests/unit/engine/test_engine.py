"""The engine: per-document isolation, infrastructure retries, shape checks, decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from mira.contracts import DeadLetterReason, Document, RepositoryManifest
from mira.engine.admit import Invalid
from mira.engine.backend import BackendUnavailable, BatchRejected, ModelRef
from mira.engine.build import local_engine, tokenizer_pool
from mira.engine.engine import Engine, RetryPolicy, Scores, score_documents
from mira.engine.triton import Ambiguous
from mira.repository import load_manifest
from mira.settings import EngineSettings
from tests.unit.engine.tiny_onnx import tiny_repo

FAST = RetryPolicy(0.001, 0.002, None, 2)


def docs(*texts: str, source: str = "s1") -> list[Document]:
    return [Document(id=str(i), source=source, text=t) for i, t in enumerate(texts)]


class Fake:
    """Scores = token count; refuses batches holding a poisoned token id; scripted failures."""

    def __init__(
        self, poison: int | None = None, failures: list[Exception] | None = None, k: int = 2
    ) -> None:
        self.poison, self.failures, self.k, self.calls = poison, list(failures or []), k, 0

    async def score(
        self, model: ModelRef, ids: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.poison is not None and (ids == self.poison).any():
            raise BatchRejected("INVALID_ARGUMENT: poisoned")
        n = mask.sum(axis=1).astype(np.float32)
        return np.stack([n] * self.k, axis=1), n

    async def close(self) -> None:
        pass


def engine_for(
    tmp_path: Path, backend: Fake, retry: RetryPolicy = FAST
) -> tuple[Engine, RepositoryManifest]:
    repo = tiny_repo(tmp_path / "repo")
    manifest, _ = load_manifest(repo / "mira_manifest.json")
    return Engine(backend, tokenizer_pool(repo, manifest, 1), retry), manifest


def run(engine: Engine, texts: list[str]) -> list[Scores | Invalid]:
    return asyncio.run(engine.infer(ModelRef("mira_a", 1), 2, texts, "a"))


def test_scores_route_and_decide_with_the_real_onnx_backend(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path / "repo")
    manifest, _ = load_manifest(repo / "mira_manifest.json")
    engine = local_engine(repo, manifest, EngineSettings(ort_threads=1))
    out = asyncio.run(
        score_documents(engine, manifest, "a", docs("one two three four five", "one"), 1.3)
    )
    got = [(o.mira.score, o.mira.decision) for o in out if not isinstance(o, Invalid)]
    assert got == [(5.25, "reject"), (2.25, "reject")]
    assert not isinstance(out[0], Invalid) and out[0].mira.anchors == {"x": 7.0, "y": 3.5}


def test_a_refused_document_is_dead_lettered_alone(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path, Fake(poison=2028))  # 2028 = "one"
    out = run(engine, ["two three", "one two", "three", "four five six"])
    assert [type(o).__name__ for o in out] == ["Scores", "Invalid", "Scores", "Scores"]
    bad = out[1]
    assert isinstance(bad, Invalid) and bad.reason is DeadLetterReason.INFERENCE_FAILED


def test_when_the_canary_fails_too_nothing_is_dead_lettered(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path, Fake(poison=101))  # [CLS] is in every request, canary too
    with pytest.raises(BackendUnavailable, match="canary"):
        run(engine, ["two", "three"])
    assert not engine.healthy


def test_unavailable_backend_is_retried_until_it_answers(tmp_path: Path) -> None:
    fake = Fake(failures=[BackendUnavailable("down")] * 5)
    engine, _ = engine_for(tmp_path, fake)
    out = run(engine, ["one two"])
    assert isinstance(out[0], Scores) and fake.calls == 6 and engine.healthy


def test_limited_attempts_raise_for_the_caller(tmp_path: Path) -> None:
    fake = Fake(failures=[BackendUnavailable("down")] * 5)
    engine, _ = engine_for(tmp_path, fake, RetryPolicy(0.001, 0.002, 3, 2))
    with pytest.raises(BackendUnavailable):
        run(engine, ["one two"])
    assert fake.calls == 3


def test_ambiguous_errors_are_bounded_then_the_batch_is_split(tmp_path: Path) -> None:
    fake = Fake(failures=[Ambiguous("INTERNAL: boom")] * 3)
    engine, _ = engine_for(tmp_path, fake)
    out = run(engine, ["one", "two"])
    assert all(isinstance(o, Scores) for o in out)  # halves succeed once the errors stop


def test_output_shapes_that_disagree_with_the_manifest_are_not_a_document_fault(
    tmp_path: Path,
) -> None:
    engine, _ = engine_for(tmp_path, Fake(k=3), RetryPolicy(0.001, 0.002, 2, 2))
    with pytest.raises(BackendUnavailable, match="manifest lists 2 anchors"):
        run(engine, ["one"])


class BadTokens:
    """A tokenizer stage that raises on texts containing 'boom'."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if any("boom" in t for t in texts):
            raise TypeError("cannot tokenize")
        return await self.inner.encode(texts)  # type: ignore[attr-defined]

    def restart(self) -> None:
        pass

    def close(self) -> None:
        self.inner.close()  # type: ignore[attr-defined]


def test_a_text_the_tokenizer_cannot_take_is_dead_lettered_alone(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path, Fake())
    engine.tokens = BadTokens(engine.tokens)  # type: ignore[assignment]
    out = run(engine, ["one", "boom here", "two"])
    assert isinstance(out[0], Scores) and isinstance(out[2], Scores)
    assert isinstance(out[1], Invalid) and out[1].reason is DeadLetterReason.TOKENIZE_FAILED


class BrokenTokens(BadTokens):
    async def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        raise OSError("tokenizer.json vanished")


def test_a_broken_tokenizer_is_infrastructure_not_the_documents(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path, Fake())
    engine.tokens = BrokenTokens(engine.tokens)  # type: ignore[assignment]
    with pytest.raises(BackendUnavailable, match="canary"):
        run(engine, ["one", "two"])
