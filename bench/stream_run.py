"""One measured ``mira score`` run for bench/stream.py: CPU of the process tree and by stage.

The window opens when the first document is consumed (start-up excluded) and closes when every
document is delivered; CPU is read from /proc for the scorer and all its descendants (tokenizer
worker processes included) at both ends, and split by stage with py-spy samples
(bench/stage_profile.py).  After the window the scorer idles on its now-empty topic for
``idle_s`` seconds (py-spy stopped): CPU-s/s idle.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.stage_profile import StageProfile

ROOT = Path(__file__).resolve().parents[1]
TCK = os.sysconf("SC_CLK_TCK")
DONE = (
    "mira_documents_accepted_total",
    "mira_documents_rejected_total",
    "mira_documents_dead_lettered_total",
)


@dataclass
class RunResult:
    docs: int
    wall_s: float
    tree_cpu_s: float  # the scorer process tree, from /proc
    stages_s: dict[str, float] = field(default_factory=dict)  # CPU seconds by stage (py-spy)
    idle_cpu_per_s: float | None = None
    log: str = ""

    def ms_per_doc(self, seconds: float) -> float:
        return 1e3 * seconds / max(1, self.docs)


def metric(port: int, names: tuple[str, ...]) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(tuple(f"{n}{{" for n in names) + tuple(f"{n} " for n in names))
    )


def tree_cpu(pid: int) -> tuple[float, float]:
    """utime + stime of ``pid`` and of its live descendants, in seconds."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TCK
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(kids)
        todo.extend(kids)
    return cpu.get(pid, 0.0), sum(cpu.get(p, 0.0) for p in tree if p != pid)


class ScorerRun:
    def __init__(self, env: dict[str, str], port: int, work: Path) -> None:
        self.env, self.port, self.work = env, port, work
        self.samples_path = work / "py-spy.raw"
        self.log_path = work / "scorer.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ScorerRun:
        env = {
            **os.environ,
            **self.env,
            "MIRA_SCORER_METRICS_PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
            "TOKENIZERS_PARALLELISM": "false",
        }
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mira.cli", "score"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def _alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"scorer exited {self.proc.returncode}: {self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def _wait(
        self, names: tuple[str, ...], at_least: float, timeout_s: float, every_s: float
    ) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._alive()
            value = metric(self.port, names)
            if value is not None and value >= at_least:
                return value
            time.sleep(every_s)
        raise TimeoutError(f"{names} < {at_least} after {timeout_s} s: {self.tail()}")

    def measure(self, n: int, idle_s: float, timeout_s: float = 900) -> RunResult:
        """Window from the first consumed document to the last delivered one, then idle."""
        assert self.proc is not None
        self._wait(("mira_documents_in_total",), 1, 120, 0.01)
        profile = StageProfile(self.proc.pid, self.samples_path, py_spy())
        (m0, k0), t0 = tree_cpu(self.proc.pid), time.monotonic()
        done0 = metric(self.port, DONE) or 0.0
        self._wait(DONE, n, timeout_s, 0.5)  # /metrics costs the scorer CPU
        (m1, k1), t1 = tree_cpu(self.proc.pid), time.monotonic()
        result = RunResult(int(n - done0), t1 - t0, m1 + k1 - m0 - k0)
        result.stages_s = profile.stop(children_cpu_s=k1 - k0)
        if idle_s > 0:
            time.sleep(3)  # the last commit and metadata settle
            (i0, j0), it0 = tree_cpu(self.proc.pid), time.monotonic()
            time.sleep(idle_s)
            i1, j1 = tree_cpu(self.proc.pid)
            result.idle_cpu_per_s = (i1 + j1 - i0 - j0) / (time.monotonic() - it0)
        return result

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.tail()


def py_spy() -> str:
    """The py-spy executable next to this Python (dev extra), else on PATH."""
    here = Path(sys.executable).with_name("py-spy")
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy not found: install the dev extra (pip install py-spy)")
    return found
