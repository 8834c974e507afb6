"""The offline checkers of deploy/, obtained from package registries and cached under .cache/.

- kube-score: built from its Go module (``go install``) into .cache/bin.
- kustomize: ``kubectl kustomize`` when kubectl is installed, else built from its Go module.
- CRD schemas of KEDA and prometheus-operator: their Go modules, fetched through the Go module
  proxy (``go mod download -json``), hold the CRD YAML files; they are copied into
  .cache/crds/<module>@<version>/ with a SOURCE.json naming module, version, checksum and origin.

``python deploy/tools.py`` (``make deploy-tools``) fetches everything; tests call the same
functions, so a fresh checkout needs only Go and the network to a Go module proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
BIN = CACHE / "bin"
KUBE_SCORE = ("github.com/zegl/kube-score/cmd/kube-score", "v1.20.0")
KUSTOMIZE = ("sigs.k8s.io/kustomize/kustomize/v5", "v5.5.0")
# (module, version, folder of the CRD files inside the module)
CRD_MODULES = (
    ("github.com/kedacore/keda/v2", "v2.18.3", "config/crd/bases"),
    (
        "github.com/prometheus-operator/prometheus-operator",
        "v0.85.0",
        "example/prometheus-operator-crd",
    ),
)


class ToolError(RuntimeError):
    """A tool could not be obtained: one line saying what to install or reach."""


def _go() -> str:
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise ToolError("Go is needed to build kube-score and fetch CRDs: install Go >= 1.22")
    return found


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOMODCACHE", str(CACHE / "gomod"))
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -modcacherw").strip()
    return env


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ToolError(f"{' '.join(cmd[:4])} failed: {' | '.join(tail)}")
    return done.stdout


def go_install(module: str, version: str) -> Path:
    """``go install module@version`` into .cache/bin (once per version); the binary's path."""
    binary = BIN / module.rsplit("/", 1)[-1]
    stamp = binary.with_name(binary.name + ".version")
    if binary.is_file() and stamp.is_file() and stamp.read_text().strip() == version:
        return binary
    BIN.mkdir(parents=True, exist_ok=True)
    env = _go_env() | {"GOBIN": str(BIN)}
    _run([_go(), "install", f"{module}@{version}"], env)
    stamp.write_text(version + "\n")
    return binary


def kube_score() -> Path:
    return go_install(*KUBE_SCORE)


def kustomize_cmd() -> list[str]:
    """How to run kustomize: kubectl's built-in one, else the Go-built binary."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    return [str(go_install(*KUSTOMIZE)), "build"]


def crd_dir(module: str, version: str, subdir: str) -> Path:
    """The CRD YAML files of ``module@version`` (downloaded through the Go module proxy)."""
    target = CACHE / "crds" / f"{module.replace('/', '_')}@{version}"
    if (target / "SOURCE.json").is_file():
        return target
    info = json.loads(_run([_go(), "mod", "download", "-json", f"{module}@{version}"], _go_env()))
    if info.get("Error"):
        raise ToolError(f"go mod download {module}@{version}: {info['Error']}")
    files = sorted((Path(info["Dir"]) / subdir).glob("*.yaml"))
    if not files:
        raise ToolError(f"{module}@{version} has no CRD files under {subdir}")
    stage = target.with_name(target.name + ".tmp")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, stage / path.name)
    source = {key: info.get(key) for key in ("Path", "Version", "Sum", "Origin")}
    source["subdir"] = subdir
    (stage / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    stage.rename(target)
    return target


def crd_dirs() -> list[Path]:
    return [crd_dir(*spec) for spec in CRD_MODULES]


def main() -> int:
    try:
        sys.stdout.write(f"kube-score: {kube_score()}\n")
        sys.stdout.write(f"kustomize: {' '.join(kustomize_cmd())}\n")
        for path in crd_dirs():
            sys.stdout.write(f"CRDs: {path}\n")
    except ToolError as exc:
        sys.stderr.write(f"deploy tools: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
