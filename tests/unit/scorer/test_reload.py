"""Manifest watching and the load-then-switch order of a model version change."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from mira.contracts import RepositoryManifest
from scorer.reload import ManifestError, ManifestWatcher, activate, load_manifest, model_changes


def _manifest(version: int = 1, threshold: float = 2.0) -> dict[str, Any]:
    return {
        "groups": {"code": {"model": "mira_code", "version": version, "anchors": ["a"],
                            "weights": [1.0], "rubric_version": "r1"}},
        "source_groups": {"s": "code"}, "thresholds": {"s": threshold}, "budget": 0.5,
        "tokenizer": "tokenizer/tokenizer.json", "max_length": 64, "max_chars": 256,
    }


def _write(path: Path, data: dict[str, Any], bump_ns: int = 0) -> None:
    path.write_text(json.dumps(data))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))


def test_watcher_offers_a_changed_manifest_until_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    _write(path, _manifest())
    _, digest = load_manifest(path)
    w = ManifestWatcher(path, digest)
    assert w.poll() is None
    _write(path, _manifest(threshold=3.0), bump_ns=10**9)
    polled = w.poll()
    assert polled is not None and polled[0].thresholds == {"s": 3.0}
    assert w.poll() is not None  # not accepted yet: offered again
    w.accept(polled[1])
    assert w.poll() is None


def test_watcher_ignores_touch_without_change_and_invalid_files(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    _write(path, _manifest())
    w = ManifestWatcher(path, load_manifest(path)[1])
    _write(path, _manifest(), bump_ns=10**9)  # same bytes, new mtime
    assert w.poll() is None
    path.write_text("{not json")
    assert w.poll() is None  # reported, the current manifest stays in use


def test_load_manifest_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_manifest(), "budget": 2}))
    with pytest.raises(ManifestError, match="budget"):
        load_manifest(bad)


def test_model_changes_lists_new_versions_only() -> None:
    old = RepositoryManifest.model_validate(_manifest(1))
    assert model_changes(old, RepositoryManifest.model_validate(_manifest(1, 9.0))) == {}
    new = RepositoryManifest.model_validate(_manifest(2))
    assert model_changes(old, new) == {"code": ("mira_code", 2)}


def test_activate_loads_then_waits_until_ready() -> None:
    calls: list[Any] = []
    ready_after = {"n": 2}

    async def load(model: str) -> None:
        calls.append(("load", model))

    async def ready(model: str, version: str) -> bool:
        calls.append(("ready?", model, version))
        ready_after["n"] -= 1
        return ready_after["n"] <= 0

    ok = asyncio.run(activate({"code": ("mira_code", 2)}, load, ready, poll_s=0.001))
    assert ok
    assert calls[0] == ("load", "mira_code")
    assert calls[1:] == [("ready?", "mira_code", "2")] * 2


def test_activate_times_out_when_the_version_never_gets_ready() -> None:
    async def load(model: str) -> None:
        raise RuntimeError("not in explicit mode")

    async def never(model: str, version: str) -> bool:
        return False

    assert not asyncio.run(activate({"g": ("m", 3)}, load, never, timeout_s=0.05, poll_s=0.01))
