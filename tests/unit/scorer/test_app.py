"""The main loop's poll timeout: short while work is in progress, long when idle."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from mira.contracts import RepositoryManifest
from mira.settings import MiraSettings
from scorer.app import ScorerApp
from scorer.batcher import MicroBatcher


def _app(**scorer: Any) -> ScorerApp:
    settings = MiraSettings(scorer={"poll_ms": 50, "idle_poll_ms": 2000, **scorer})
    manifest = RepositoryManifest.model_construct()
    app = ScorerApp(settings, manifest, "digest")
    app.flow = SimpleNamespace(batcher=MicroBatcher(8, 0.02), tasks=set())  # type: ignore[assignment]
    return app


def test_idle_poll_is_long() -> None:
    assert _app()._poll_timeout_ms() == 2000


def test_pending_work_polls_short() -> None:
    app = _app()
    app.tracker.start("tp", 0)
    assert app._poll_timeout_ms() == 50


def test_in_flight_batches_poll_short() -> None:
    app = _app()
    app.flow.tasks.add(object())  # type: ignore[union-attr]
    assert app._poll_timeout_ms() == 50


def test_open_batch_polls_until_due() -> None:
    app = _app()
    app.flow.batcher.add("g", 1, time.monotonic())  # type: ignore[union-attr]
    assert 0 <= app._poll_timeout_ms() <= 20


def test_stopping_polls_short() -> None:
    app = _app()
    app._stopping = True
    assert app._poll_timeout_ms() == 50
