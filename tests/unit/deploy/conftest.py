"""Shared fixtures of the deployment tests: rendered overlays, CRD schemas, deploy/ helpers.

Rendering uses kustomize (kubectl's built-in one); tools come from deploy/tools.py, which builds
or downloads what is missing (Go module proxy) into .cache/. Nothing here needs a cluster.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"mira_deploy_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOLS = load_module(DEPLOY / "tools.py")


def render(kustomization: Path) -> list[dict[str, Any]]:
    cmd = [*TOOLS.kustomize_cmd(), str(kustomization)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr.strip()}"
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """overlay name -> every object `kustomize build` emits for it."""
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def values() -> dict[str, dict[str, Any]]:
    """overlay name -> spec of its values.yaml (MiraDeployValues)."""
    out = {}
    for name in OVERLAYS:
        doc = yaml.safe_load((K8S / "overlays" / name / "values.yaml").read_text())
        out[name] = doc["spec"]
    return out


def find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind}/{name}, found {len(hits)}"
    return hits[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template spec of a workload (Deployment, StatefulSet, Job, CronJob), else None."""
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template") if isinstance(spec, dict) else None
    return template["spec"] if template else None


def container_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}
