"""What every local service shares: free ports, a cache dir, a managed child process.

A :class:`Service` owns one child process with its own work dir and log file.  ``start()`` waits
until the service answers (or raises :class:`ServiceError` with the log tail), ``stop()`` sends
SIGTERM to the whole process group, then SIGKILL after a grace period.  Ports are picked once, so a
stopped service starts again on the same ones.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Self

log = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    """A service could not be set up, started or reached (the message says what to do)."""


def cache_dir() -> Path:
    """The user's cache dir for mira (``$XDG_CACHE_HOME/mira`` or ``~/.cache/mira``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mira"


def repo_root() -> Path:
    """The source checkout holding this package (editable install) - for deploy/ files."""
    return Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 64 * 1024))
        data = fh.read().decode("utf-8", errors="replace")
    return "\n".join(data.splitlines()[-lines:])


def require_binary(name: str, hint: str) -> str:
    """The full path of an executable on PATH, or a ServiceError saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"`{name}` not found on PATH: {hint}")
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate_group(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL it if still alive after ``grace_s``."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return
            if not pid_alive(pid):
                return
            time.sleep(0.05)
        if sig == signal.SIGTERM:
            log.warning("pid %d did not stop within %.0f s: killing it", pid, grace_s)


class Service:
    """A child process with a work dir, a log file and a readiness check (subclass hooks)."""

    name = "service"

    def __init__(self, workdir: Path | None = None, ready_timeout_s: float = 60.0):
        self._owns_dir = workdir is None
        self.workdir = (
            Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"mira-{self.name}-"))
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ready_timeout_s = ready_timeout_s
        self.log_path = self.workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._prepared = False
        self._log_offset = 0  # where this run's lines start in the log
        # False: stopped when this Python process exits; True: outlives it (`mira services up`)
        self.detached = False
        self._atexit = False
        self._ever_ready = False

    # -- hooks -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """One-time setup before the first start (configs, storage)."""

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> Mapping[str, str] | None:
        return None

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _after_stop(self) -> None:
        """Clean what the process leaves behind (shared memory...)."""

    def endpoints(self) -> dict[str, str]:
        return {}

    def _log_since_start(self) -> bytes:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(self._log_offset)
                return fh.read()
        except FileNotFoundError:
            return b""

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start the process (no-op when running) and wait until it is ready.

        If the very first start loses a port race (another process took a picked port), new
        ports are picked and it tries again; a restart always keeps its ports.
        """
        if self.running:
            return self
        for attempt in range(3):
            try:
                return self._start_once()
            except ServiceError:
                if self._ever_ready or attempt == 2 or not self._lost_port_race():
                    raise
                log.warning("%s: a port was taken meanwhile; retrying on new ports", self.name)
                self._pick_ports()
                self._prepared = False
        raise AssertionError("unreachable")

    def _lost_port_race(self) -> bool:
        text = self._log_since_start().lower()
        return b"address already in use" in text or b"failed to bind" in text

    def _pick_ports(self) -> None:
        """Choose new free ports (subclasses with ports override this)."""

    def _start_once(self) -> Self:
        if not self._prepared:
            self._prepare()
            self._prepared = True
        began = time.monotonic()
        with self.log_path.open("ab") as out:
            self._log_offset = out.tell()
            out.write(f"---- mira: starting {self.name} at {time.ctime()}\n".encode())
            out.flush()
            self._proc = self._spawn(out)
        if not self.detached and not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._ever_ready = True
        log.info("%s ready in %.1f s: %s", self.name, time.monotonic() - began, self.endpoints())
        return self

    def _spawn(self, out: IO[bytes]) -> subprocess.Popen[bytes]:
        cmd = self._command()
        env = self._env()
        log.debug("starting %s: %s", self.name, " ".join(cmd))
        try:
            return subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        except OSError as exc:
            raise ServiceError(f"cannot run {cmd[0]}: {exc.strerror}") from None

    def _wait_ready(self) -> None:
        wait_until(
            self._is_ready,
            self.ready_timeout_s,
            f"{self.name} to become ready",
            alive=lambda: self.running,
            log_path=self.log_path,
        )

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL); ports and work dir are kept for a restart."""
        if self._proc is not None:
            terminate_group(self._proc.pid, grace_s)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
        self._after_stop()

    def kill(self) -> None:
        """SIGKILL the process group at once (fault tests); ``start`` restarts it on the same
        ports and the same data."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)
            self._proc = None
        self._after_stop()

    def close(self) -> None:
        """Stop and remove the work dir if this object created it."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def wait_until(
    predicate: Callable[[], bool],
    timeout_s: float,
    what: str,
    *,
    alive: Callable[[], bool] | None = None,
    log_path: Path | None = None,
    interval_s: float = 0.1,
) -> None:
    """Poll ``predicate`` until true; ServiceError (with log tail) on timeout or early death."""
    deadline = time.monotonic() + timeout_s
    while True:
        if alive is not None and not alive():
            raise ServiceError(
                f"process exited while waiting for {what}; log {log_path}:\n{log_tail(log_path)}"
            )
        if predicate():
            return
        if time.monotonic() > deadline:
            raise ServiceError(
                f"timed out after {timeout_s:.0f} s waiting for {what}; "
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(interval_s)
