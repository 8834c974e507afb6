"""CPU of a running ``mira score`` by stage (used by bench/stream.py; not a library).

``py-spy`` (an external sampler: no GIL taken, nothing added to the scorer) records the stacks of
the scorer's threads while they are on a CPU; each thread's CPU over the window, read from
/proc/<pid>/task/<tid>/stat, is split across stages in proportion to that thread's samples.
Threads without Python frames (gRPC's C-core, librdkafka) are charged by name; descendant
processes (tokenizer workers) are charged to ``tokenize``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

STAGES = (
    "consume",
    "validate",
    "batching",
    "tokenize",
    "triton client",
    "serialise",
    "produce",
    "commit",
    "event loop + other",
    "kafka client threads (native)",
)
COMMIT_FUNCS = {
    "commit",
    "commit_offsets_sync",
    "commit_offsets_async",
    "_commit",
    "send_offsets_to_transaction",
    "commit_transaction",
    "abort_transaction",
    "begin_transaction",
    "init_transactions",
    "_send_offset_commit_request",
    "store_offsets",
}
PRODUCE_FUNCS = {"produce", "flush", "_send_all", "send", "_produce"}
CONSUME_FUNCS = {
    "poll",
    "update_lag",
    "set_paused",
    "consume",
    "_poll_records",
    "record",
    "_serve_events",
}
TCK = os.sysconf("SC_CLK_TCK")
Stack = list[tuple[str, str]]  # (file, function), innermost first
_FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*):\d+\)$")
_THREAD = re.compile(r"^thread \((?P<tid>\d+)\): (?P<name>.*)$")


def _any(stack: Stack, *parts: str, funcs: set[str] | None = None) -> bool:
    """Some frame in one of the ``parts`` paths whose function (method name without its class:
    py-spy reports ``Class.method``) is in ``funcs``."""
    return any(
        (not parts or any(p in path for p in parts))
        and (funcs is None or func.rpartition(".")[2] in funcs)
        for path, func in stack
    )


def stage_of(stack: Stack, thread: str) -> str:
    """The stage a stack belongs to, by the most specific code on it (order matters)."""
    if _any(
        stack, "tokenizers", "mira/engine/tokenize.py", "mira/engine/tokenpool.py"
    ) or thread.startswith(("tokenize", "QueueFeederThread", "ExecutorManager")):
        return "tokenize"
    if _any(stack, "tritonclient/", "grpc/", "mira/engine/triton.py"):
        return "triton client"
    if _any(stack, "kafka/", "confluent_kafka", funcs=COMMIT_FUNCS) and not _any(
        stack, "scorer/kafka_io.py", funcs=PRODUCE_FUNCS
    ):
        return "commit"  # client commit and transaction calls
    if _any(stack, "kafka/producer/") or _any(stack, funcs=PRODUCE_FUNCS):
        return "produce"
    if _any(stack, "scorer/delivery.py") or _any(stack, funcs=COMMIT_FUNCS):
        return "commit"  # our own delivery bookkeeping
    if _any(stack, "kafka/") or _any(stack, funcs=CONSUME_FUNCS) or thread.startswith("kafka-io"):
        return "consume"
    if _any(stack, "scorer/messages.py") or _any(stack, funcs={"decide", "model_dump_json"}):
        return "serialise"
    if _any(stack, "mira/engine/admit.py") or _any(stack, funcs={"route"}):
        return "validate"
    if _any(stack, "scorer/batcher.py", "scorer/offsets.py", "scorer/scoring.py"):
        return "batching"
    return "event loop + other"


def native_stage(name: str) -> str:
    if name.startswith("rdk:"):
        return "kafka client threads (native)"
    if name.startswith(
        (
            "grpc",
            "event_engine",
            "default-execu",
            "resolver-exec",
            "timer_manager",
            "lifeguard",
            "global-executo",
        )
    ):
        return "triton client"
    return "event loop + other"


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """tid -> (name, CPU seconds) of every thread of ``pid``."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            raw = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(tid)] = (
            raw[raw.index("(") + 1 : raw.rindex(")")],
            (int(fields[11]) + int(fields[12])) / TCK,
        )
    return out


def parse_raw(text: str) -> dict[int, tuple[str, Counter[str]]]:
    """py-spy ``--format raw --threads`` -> tid -> (thread name, samples per stage)."""
    out: dict[int, tuple[str, Counter[str]]] = {}
    for line in text.splitlines():
        body, _, count = line.rpartition(" ")
        parts = body.split(";")
        head = _THREAD.match(parts[0]) if parts else None
        if head is None or not count.isdigit():
            continue
        frames = [m.group("path", "func") for p in parts[1:] if (m := _FRAME.match(p))]
        tid, name = int(head["tid"]), head["name"]
        stage = stage_of(frames[::-1], name)
        out.setdefault(tid, (name, Counter()))[1][stage] += int(count)
    return out


class StageProfile:
    """Start at the window's start, ``stop`` at its end: CPU seconds per stage of the window."""

    def __init__(self, pid: int, out: Path, py_spy: str, rate: int = 250) -> None:
        self.pid, self.out = pid, out
        self.before = thread_cpu(pid)
        self.proc = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--threads",
                "--nonblocking",
                "--format",
                "raw",
                "--rate",
                str(rate),
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self, children_cpu_s: float) -> dict[str, float]:
        after = thread_cpu(self.pid)
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=60)
        samples = parse_raw(self.out.read_text()) if self.out.exists() else {}
        stages: dict[str, float] = defaultdict(float)
        for tid, (name, cpu) in after.items():
            used = cpu - self.before.get(tid, (name, 0.0))[1]
            if used <= 0:
                continue
            counts = samples.get(tid, (name, Counter()))[1]
            total = sum(counts.values())
            if not total:
                stages[native_stage(name)] += used
                continue
            for stage, n in counts.items():
                stages[stage] += used * n / total
        stages["tokenize"] += children_cpu_s
        if not samples:
            raise RuntimeError(f"py-spy recorded nothing: {err.decode(errors='replace')[-500:]}")
        return dict(stages)
