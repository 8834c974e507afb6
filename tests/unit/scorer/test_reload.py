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
        "groups": {
            "code": {
                "model": "mira_code",
                "version": version,
                "anchors": ["a"],
                "weights": [1.0],
                "rubric_version": "r1",
            }
        },
        "source_groups": {"s": "code"},
        "thresholds": {"s": threshold},
        "budget": 0.5,
        "tokenizer": "tokenizer/tokenizer.json",
        "max_length": 64,
        "max_chars": 256,
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

    async def load(model: str, version: int) -> None:
        calls.append(("load", model, version))

    async def ready(model: str, version: str) -> bool:
        calls.append(("ready?", model, version))
        ready_after["n"] -= 1
        return ready_after["n"] <= 0

    ok = asyncio.run(activate({"code": ("mira_code", 2)}, load, ready, 5.0, poll_s=0.001))
    assert ok
    assert calls[0] == ("load", "mira_code", 2)
    assert calls[1:] == [("ready?", "mira_code", "2")] * 2


def test_activate_times_out_when_the_version_never_gets_ready() -> None:
    async def load(model: str, version: int) -> None:
        raise RuntimeError("not in explicit mode")

    async def never(model: str, version: str) -> bool:
        return False

    assert not asyncio.run(activate({"g": ("m", 3)}, load, never, timeout_s=0.05, poll_s=0.01))


# ---------------------------------------------------------------- rollout over several endpoints
def _repo(tmp_path: Path) -> Path:
    """A manifest (v1) whose model files exist, and the files of v2."""
    from mira.repository import sha256_file

    for v in (1, 2):
        (tmp_path / "mira_code" / str(v)).mkdir(parents=True)
        (tmp_path / "mira_code" / str(v) / "model.onnx").write_bytes(b"v%d" % v)
    path = tmp_path / "mira_manifest.json"
    _write(path, _with_files(tmp_path, _manifest(1), 1))
    assert sha256_file(tmp_path / "mira_code/1/model.onnx")
    return path


def _with_files(repo: Path, data: dict[str, Any], version: int) -> dict[str, Any]:
    from mira.repository import sha256_file

    rel = f"mira_code/{version}/model.onnx"
    data["groups"]["code"]["files"] = {rel: sha256_file(repo / rel)}
    return data


def _reloader(manifest_path: Path, pool: Any, timeout_s: float) -> tuple[Any, list[Any]]:
    from types import SimpleNamespace

    from mira.settings import MiraSettings
    from scorer.reload import Reloader

    settings = MiraSettings.model_validate(
        {"scorer": {"manifest": str(manifest_path), "rollout_timeout_s": timeout_s}}
    )
    current, digest = load_manifest(manifest_path)
    state = [current]
    engine = SimpleNamespace(backend=pool, tokens=None, healthy=True)
    reloader = Reloader(
        settings,
        engine,
        lambda: state[-1],
        digest,  # type: ignore[arg-type]
        state.append,
    )
    return reloader, state


def test_the_scorer_switches_only_when_every_endpoint_has_the_new_version(tmp_path: Path) -> None:
    from mira.engine.backend import ModelRef
    from tests.unit.engine.test_pool import IDS, V1, V2, Cluster

    path = _repo(tmp_path)
    cluster = Cluster(3)
    cluster.repo.add(V2)
    slow = cluster.servers["10.0.0.3:8001"]
    slow.load_delay = 0.3

    async def main() -> None:
        pool = cluster.pool()
        reloader, state = _reloader(path, pool, timeout_s=10)
        new = RepositoryManifest.model_validate(_with_files(tmp_path, _manifest(2), 2))
        task = asyncio.create_task(reloader.apply(new, "digest-2"))
        while not slow.loads:
            await asyncio.sleep(0.01)
        # two endpoints have v2, the third is loading: the scorer still names v1, and a
        # request naming v1 succeeds on every endpoint
        assert state[-1].groups["code"].version == 1 and not task.done()
        for _ in range(3):
            await pool.score(ModelRef("mira_code", state[-1].groups["code"].version), IDS, IDS)
        await task
        assert state[-1].groups["code"].version == 2 and pool.expected == {V2}
        assert all(V2 in s.loaded and V1 in s.loaded for s in cluster.servers.values())
        assert all(s.loads == ["mira_code"] for s in cluster.servers.values())
        await pool.close()

    asyncio.run(main())


def test_a_version_one_endpoint_never_gets_keeps_the_old_manifest(tmp_path: Path) -> None:
    from tests.unit.engine.test_pool import V1, Cluster

    path = _repo(tmp_path)
    cluster = Cluster(2)  # the repository offers no v2: load_model brings nothing up

    async def main() -> None:
        pool = cluster.pool()
        reloader, state = _reloader(path, pool, timeout_s=0.3)
        new = RepositoryManifest.model_validate(_with_files(tmp_path, _manifest(2), 2))
        with pytest.raises(ManifestError, match="not ready on every Triton endpoint"):
            await reloader.apply(new, "digest-2")
        assert len(state) == 1 and pool.expected == {V1}
        await pool.close()

    asyncio.run(main())
