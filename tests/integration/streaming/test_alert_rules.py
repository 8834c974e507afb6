"""``promtool`` checks and unit-tests the alert rules (real Prometheus tooling, never skipped)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"


def _promtool() -> str:
    path = shutil.which("promtool") or "/usr/bin/promtool"
    assert Path(path).exists(), "promtool not found: run `make apt` (Debian package prometheus)"
    return path


def test_rules_check() -> None:
    done = subprocess.run(
        [_promtool(), "check", "rules", "mira-rules.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_rules_unit_tests() -> None:
    done = subprocess.run(
        [_promtool(), "test", "rules", "mira-rules.test.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
