"""bench/stream.py runs end to end on a tiny input (a smoke test: benchmarks are not tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def test_stream_bench_smoke(kafka_broker: Any, small_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "MIRA_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "stream.py"),
            "--smoke",
            "--corpus",
            str(small_corpus),
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert row["docs"] > 0 and row["total_ms"] > 0 and row["tokenizer_alone_ms"] > 0
    assert row["stages_ms"]["tokenize"] > 0 and row["idle_cpu_per_s"] is not None
    staged = sum(row["stages_ms"].values())
    assert 0.5 * row["total_ms"] < staged < 1.5 * row["total_ms"], row  # py-spy covers the CPU
    assert "| kafka-python | 128 |" in proc.stdout
