"""Run ``mira score`` as a real child process (so it can be SIGKILLed) and watch its endpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mira.services.common import free_port


@dataclass
class Scorer:
    """One ``mira score`` process; settings through MIRA_* environment variables."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Scorer:
        env = {
            **os.environ,
            **self.env,
            "MIRA_SCORER_METRICS_PORT": str(self.port),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mira.cli", "score"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.url(path), timeout=2) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def metric(self, name: str) -> float:
        """Sum of all samples of ``name`` (0 when absent or the process is not up)."""
        try:
            with urllib.request.urlopen(self.url("/metrics"), timeout=2) as resp:
                text = resp.read().decode()
        except OSError:
            return 0.0
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Every sample of ``name`` with its labels (empty when the process is not up)."""
        return scrape(self.url("/metrics"), name)

    def wait_for(self, name: str, at_least: float, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            if self.metric(name) >= at_least:
                return
            time.sleep(0.1)
        raise AssertionError(
            f"{name} < {at_least} after {timeout_s} s; log: {self.tail()}\n{self.stacks()}"
        )

    def stacks(self) -> str:
        """The scorer's thread stacks (py-spy, an external sampler), for a stuck process."""
        assert self.proc is not None
        spy = Path(sys.executable).with_name("py-spy")
        done = subprocess.run(
            [str(spy), "dump", "--pid", str(self.proc.pid)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        names = (
            "mira_documents_in_total",
            "mira_pending_documents",
            "mira_commits_total",
            "mira_commit_errors_total",
            "mira_consumer_lag",
            "mira_partitions_paused",
        )
        counts = {n: self.metric(n) for n in names}
        return f"metrics: {counts}\npy-spy dump:\n{done.stdout}{done.stderr}"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            if self.status("/readyz") == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"scorer not ready after {timeout_s} s; log: {self.tail()}")

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"scorer exited {self.proc.returncode}; log: {self.tail()}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout_s: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"no exit {timeout_s} s after SIGTERM") from None
        return int(self.proc.returncode)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def scrape(url: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of metric ``name`` (a sample name, e.g. ``x_total``) at a /metrics URL."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return []
    names = {name, f"{name}_total"}  # the parser names a counter's samples <name>_total
    return [
        (dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in names
    ]
