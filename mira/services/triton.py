"""A real Triton Inference Server (``tritonserver`` from the ``nvidia-pytriton`` wheel) on loopback.

The wheel lives in its own environment (``make triton-env`` -> ``.cache/triton-env``) with numpy<2:
the python-backend stub returns empty tensors with numpy 2.  Per SERVICES.md: the backend folder
is made of SYMLINKS (copies break the stub's ``$ORIGIN`` rpath), that environment's ``bin`` goes
first on PATH so the stub finds numpy/onnxruntime, the shm prefix is unique and its regions are
removed on stop.  Ports are picked once: ``stop()`` then ``start()`` serves on the same ones.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from mira.services.common import Service, ServiceError, free_port, repo_root

log = logging.getLogger(__name__)

STUB_PYTHON = "3.11"
_SHM_DIR = Path("/dev/shm")
_SHM_PREFIX = "mira_triton_"


def default_triton_env() -> Path:
    """``$MIRA_TRITON_ENV``, else ``.cache/triton-env`` in the cwd, else in the source checkout."""
    env = os.environ.get("MIRA_TRITON_ENV")
    if env:
        return Path(env)
    local = Path.cwd() / ".cache" / "triton-env"
    return local if local.exists() else repo_root() / ".cache" / "triton-env"


def triton_home(env_dir: Path) -> Path:
    """``pytriton/tritonserver`` inside the Triton environment (ServiceError if missing)."""
    found = sorted(env_dir.glob("lib/python3*/site-packages/pytriton/tritonserver"))
    if not found or not (found[0] / "bin" / "tritonserver").exists():
        raise ServiceError(
            f"tritonserver not found under {env_dir}: run `make triton-env` "
            "(or set MIRA_TRITON_ENV to a venv with nvidia-pytriton==0.7.0)"
        )
    return found[0]


def stub_version(home: Path) -> str:
    """The Python version of the environment holding the wheel (``lib/python3.X/...``): its
    stub must match the interpreter the models import from."""
    for part in reversed(home.parts):
        if part.startswith("python3."):
            return part.removeprefix("python")
    return STUB_PYTHON


def make_backend_dir(home: Path, target: Path, stub_python: str = STUB_PYTHON) -> Path:
    """``target/python/`` holding symlinks to the python backend and its stub."""
    py = target / "python"
    py.mkdir(parents=True, exist_ok=True)
    links = {
        "libtriton_python.so": home / "backends/python/libtriton_python.so",
        "triton_python_backend_utils.py": home / "backends/python/triton_python_backend_utils.py",
        "triton_python_backend_stub": home
        / "python_backend_stubs"
        / stub_python
        / "triton_python_backend_stub",
    }
    for name, src in links.items():
        if not src.exists():
            raise ServiceError(f"missing {src} in the Triton wheel")
        link = py / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(src.resolve())
    return target


def _mapped_shm() -> set[str] | None:
    """Names of /dev/shm files some live process maps (None when /proc cannot be read fully)."""
    names: set[str] = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            text = maps.read_text(errors="replace")
        except FileNotFoundError:
            continue  # the process just exited
        except PermissionError:
            return None
        names.update(
            line.rsplit("/dev/shm/", 1)[1].split(" ")[0]
            for line in text.splitlines()
            if "/dev/shm/" + _SHM_PREFIX in line
        )
    return names


def clean_stale_shm(min_age_s: float = 120.0) -> int:
    """Remove mira Triton shm regions that no process maps (left by a killed server)."""
    regions = list(_SHM_DIR.glob(f"{_SHM_PREFIX}*"))
    mapped = _mapped_shm() if regions else set()
    if mapped is None:
        return 0
    removed = 0
    for path in regions:
        try:
            old = time.time() - path.stat().st_mtime > min_age_s
        except FileNotFoundError:
            continue
        if old and path.name not in mapped:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %d stale Triton shm regions from %s", removed, _SHM_DIR)
    return removed


@dataclass(frozen=True)
class TritonTls:
    """gRPC over TLS: the server's certificate and key; ``mutual`` also requires a client
    certificate signed by ``root_cert``. HTTP and metrics stay plaintext (loopback only here)."""

    cert: Path
    key: Path
    root_cert: Path
    mutual: bool = False

    def flags(self) -> list[str]:
        out = [
            "--grpc-use-ssl=true",
            f"--grpc-server-cert={self.cert}",
            f"--grpc-server-key={self.key}",
            f"--grpc-root-cert={self.root_cert}",
        ]
        return [*out, "--grpc-use-ssl-mutual=true"] if self.mutual else out


class TritonServer(Service):
    """Triton on 127.0.0.1 with gRPC, HTTP and metrics ports; python backend only."""

    name = "triton"

    def __init__(
        self,
        model_repository: Path,
        workdir: Path | None = None,
        *,
        explicit: bool = True,
        env_dir: Path | None = None,
        ready_timeout_s: float = 120.0,
        log_verbose: int = 0,
        tls: TritonTls | None = None,
    ):
        super().__init__(workdir, ready_timeout_s)
        self.tls = tls
        self.model_repository = Path(model_repository).resolve()
        self.explicit = explicit
        self.env_dir = Path(env_dir) if env_dir else default_triton_env()
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.log_verbose = log_verbose
        self.shm_prefix = f"{_SHM_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}_"
        self._home: Path | None = None
        self._last_error = ""
        self._loaded: list[str] = []  # loaded through load_model(): loaded again on restart

    def _pick_ports(self) -> None:
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def endpoints(self) -> dict[str, str]:
        out = {"grpc": self.grpc_url, "http": self.http_url, "metrics": self.metrics_url}
        if self.tls is not None:
            out["grpc_tls"] = "mutual" if self.tls.mutual else "server"
            out["ssl_root_cert"] = str(self.tls.root_cert)
        return out

    def _prepare(self) -> None:
        if not self.model_repository.is_dir():
            raise ServiceError(f"model repository {self.model_repository} is not a directory")
        self._home = triton_home(self.env_dir)
        make_backend_dir(self._home, self.workdir / "backends", stub_version(self._home))
        clean_stale_shm()

    def _command(self) -> list[str]:
        assert self._home is not None
        cmd = [
            str(self._home / "bin" / "tritonserver"),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={self.workdir / 'backends'}",
            "--http-address=127.0.0.1",
            f"--http-port={self.http_port}",
            "--grpc-address=127.0.0.1",
            f"--grpc-port={self.grpc_port}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={self.metrics_port}",
            "--allow-metrics=true",
            "--allow-gpu-metrics=false",
            "--exit-timeout-secs=5",
            f"--backend-config=python,shm-region-prefix-name={self.shm_prefix}",
            "--disable-auto-complete-config",
            f"--log-verbose={self.log_verbose}",
        ]
        if self.tls is not None:
            cmd += self.tls.flags()
        if self.explicit:
            cmd.append("--model-control-mode=explicit")
            cmd += [f"--load-model={name}" for name in self._loaded]
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.env_dir)
        for var in ("PYTHONPATH", "PYTHONHOME"):
            env.pop(var, None)
        return env

    def _is_ready(self) -> bool:
        return self._http("GET", "/v2/health/ready", timeout=1.0) == 200

    def _after_stop(self) -> None:
        for path in _SHM_DIR.glob(f"{self.shm_prefix}*"):
            path.unlink(missing_ok=True)

    # -- model control -----------------------------------------------------------------------
    def _http(
        self, method: str, path: str, body: dict[str, object] | None = None, timeout: float = 60.0
    ) -> int:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://{self.http_url}{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            self._last_error = exc.read().decode("utf-8", errors="replace")
            return int(exc.code)
        except (urllib.error.URLError, OSError, TimeoutError):
            return 0

    def load_model(self, name: str, timeout_s: float = 120.0) -> None:
        """Load (or reload) a model through the HTTP repository API; ServiceError on failure."""
        status = self._http("POST", f"/v2/repository/models/{name}/load", {}, timeout_s)
        if status != 200:
            raise ServiceError(
                f"Triton could not load {name} (HTTP {status}): "
                f"{self._last_error}; log {self.log_path}"
            )
        if name not in self._loaded:
            self._loaded.append(name)

    def unload_model(self, name: str, timeout_s: float = 60.0) -> None:
        status = self._http("POST", f"/v2/repository/models/{name}/unload", {}, timeout_s)
        if status != 200:
            raise ServiceError(
                f"Triton could not unload {name} (HTTP {status}): {self._last_error}"
            )
        if name in self._loaded:
            self._loaded.remove(name)

    def model_ready(self, name: str) -> bool:
        return self._http("GET", f"/v2/models/{name}/ready", timeout=5.0) == 200
