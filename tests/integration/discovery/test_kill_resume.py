"""Annotation killed with SIGKILL mid-run (a real `mira discover annotate` process with the real
local teacher), then rerun: cached documents are not asked again (counted at the teacher)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from discovery.run import drive
from discovery.rundir import RunDir
from discovery.teacher.base import Prompt, Sampling
from mira.settings import TeacherSettings
from tests.fixtures.teacher import TEACHER_RUN, corpus_of, sizes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIZES = TEACHER_RUN | {"docs_per_group": 6, "max_chars": 200, "rationale_tokens": 3}
BATCH = 2


def _done(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return int(
                con.execute(
                    "SELECT COUNT(*) FROM answers WHERE teacher LIKE 'local:%' "
                    "AND rubric_version NOT LIKE 'propose:%'"
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_resume(
    teacher_run: Path, small_corpus: Path, local_teacher: Any, tmp_path: Path
) -> None:
    run = RunDir(tmp_path / "run")
    shutil.copytree(teacher_run / "rubrics", run.root / "rubrics")
    shutil.copyfile(teacher_run / "grouping.json", run.grouping)
    group = run.read_grouping().groups[0].name
    cmd = [
        sys.executable,
        "-m",
        "mira.cli",
        "discover",
        "annotate",
        "--corpus",
        str(small_corpus),
        "--run",
        str(run.root),
        "--group",
        group,
        "--batch-size",
        str(BATCH),
        "--docs-per-group",
        str(SIZES["docs_per_group"]),
        "--max-chars",
        str(SIZES["max_chars"]),
        "--rationale-tokens",
        str(SIZES["rationale_tokens"]),
        "--seed",
        str(SIZES["seed"]),
    ]
    proc = subprocess.Popen(
        cmd,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while _done(run.cache) < BATCH:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "no document cached in time"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cached = _done(run.cache)
    assert BATCH <= cached < SIZES["docs_per_group"], "kill must land mid-run"

    asked: list[int] = []
    real = local_teacher.complete

    def counting(prompts: Sequence[Prompt], schema: type[BaseModel], s: Sampling) -> list[str]:
        if s.temperature == 0.0:  # first tries are greedy; retries sample
            asked.append(len(prompts))
        return list(real(prompts, schema, s))

    local_teacher.complete = counting
    try:
        out = drive(
            ("annotate",),
            corpus_of(small_corpus),
            run,
            TeacherSettings(batch_size=BATCH),
            sizes(**SIZES),
            {},
            only=[group],
            teacher=local_teacher,
        )
    finally:
        del local_teacher.complete
    assert sum(asked) == SIZES["docs_per_group"] - cached  # only the unfinished documents
    assert _done(run.cache) == SIZES["docs_per_group"]
    assert out["annotations"][group] <= SIZES["docs_per_group"]
