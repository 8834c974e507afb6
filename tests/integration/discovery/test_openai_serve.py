"""Every discovery stage against a REAL OpenAI-compatible server: ``transformers serve`` hosting
the converted SmolLM2 folder on loopback (started by this test).  It ignores ``response_format``,
so answers are unguided: the repair / retry / count rules do the work, and are checked here."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from discovery.run import drive
from discovery.rundir import RunDir
from discovery.teacher.openai_http import OpenAITeacher
from discovery.teacher.weights import converted_dir, packaged_gguf
from mira.contracts import Annotation, GroupingArtifact, RubricArtifact
from mira.settings import TeacherSettings
from tests.fixtures.teacher import corpus_of, sizes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# one proposal round: a group whose 2 unguided answers are all invalid is reported, not re-asked
SIZES = {
    "samples_per_group": 2,
    "proposal_rounds": 1,
    "dims_per_doc": 1,
    "docs_per_group": 2,
    "max_chars": 200,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = str(converted_dir(packaged_gguf()))
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    exe = Path(sys.executable).with_name("transformers")
    env = os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                str(exe),
                "serve",
                folder,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
            ],
            stdout=fh,
            stderr=fh,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"transformers serve exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"server not up: {log.read_text()[-2000:]}"
            time.sleep(0.5)
        yield url, folder
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_all_stages_over_http(
    served_model: tuple[str, str], small_corpus: Path, teacher_run: Path, tmp_path: Path
) -> None:
    url, model = served_model
    teacher = OpenAITeacher(
        url, model, timeout_s=120, concurrency=2, max_new_tokens=160, max_retries=1, seed=3
    )
    run = RunDir(tmp_path / "run")
    corpus = corpus_of(small_corpus)
    ds = sizes(**SIZES)
    # same grouping options as teacher_run, so group names match it (deterministic)
    drive(("groups",), corpus, run, TeacherSettings(), ds, {})
    assert run.grouping.read_text() == (teacher_run / "grouping.json").read_text()
    summary = drive(
        ("rubrics",), corpus, run, TeacherSettings(batch_size=3), ds, {}, teacher=teacher
    )
    report = json.loads(run.report.read_text())
    missing: list[str] = []
    for g in GroupingArtifact.model_validate_json(run.grouping.read_text()).groups:
        stats = report[f"rubrics:{g.name}"]
        assert stats["docs"] == SIZES["samples_per_group"] == stats["answered"] + stats["failed"]
        if g.name in summary["rubrics"]:
            rubric = RubricArtifact.model_validate_json(run.rubric(g.name).read_text())
            assert rubric.teacher == f"openai:{model}"
        else:  # unguided 135M answers (or their proposals) can all be invalid: reported
            assert "error" in stats, stats
            assert not run.rubric(g.name).exists()
            missing.append(g.name)
    local = RunDir(teacher_run)
    for name in missing:  # annotate over HTTP with the local run's rubric where it has one
        if local.rubric(name).is_file():
            run.rubric(name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(local.rubric(name), run.rubric(name))
            shutil.copy(local.anchors(name), run.anchors(name))
    annotated = drive(
        ("annotate",), corpus, run, TeacherSettings(batch_size=3), ds, {}, teacher=teacher
    )
    teacher.close()
    report = json.loads(run.report.read_text())
    for group, written in annotated["annotations"].items():
        rubric = RubricArtifact.model_validate_json(run.rubric(group).read_text())
        rows = [
            Annotation.model_validate_json(x)
            for x in run.annotations(group).read_text().splitlines()
        ]
        stats = report[f"annotate:{group}"]
        # every document is either labelled (and valid) or counted as failed: never silent
        assert stats["docs"] == SIZES["docs_per_group"] == stats["answered"] + stats["failed"]
        assert len(rows) == stats["answered"] == written
        assert all(
            r.teacher == f"openai:{model}"
            and r.rubric_version == rubric.version
            and set(r.scores) == set(rubric.anchor_names())
            for r in rows
        )
    with_rubric = {g.name for g in run.read_grouping().groups if run.rubric(g.name).is_file()}
    assert with_rubric and set(annotated["annotations"]) == with_rubric
    assert teacher.structured == "json_schema"  # transformers serve ignores, not rejects, it
    assert teacher.http_requests >= 2 * (SIZES["samples_per_group"] + SIZES["docs_per_group"])
