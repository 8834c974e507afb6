"""Every discovery stage against a REAL OpenAI-compatible server: ``transformers serve`` hosting
the converted SmolLM2 folder on loopback (started by this test).  It ignores ``response_format``,
so answers are unguided: the repair / retry / count rules do the work, and are checked here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from discovery.corpus_io import by_source
from discovery.driver import drive
from discovery.rundir import RunDir
from discovery.teacher.openai_http import OpenAITeacher
from discovery.teacher.weights import converted_dir, packaged_gguf
from mira.contracts import Annotation, GroupingArtifact, RubricArtifact
from mira.settings import TeacherSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIZES = {"k": 2, "k_max": 2, "samples_per_source": 2, "anchors": 3, "samples_per_group": 2,
         "dims_per_doc": 1, "docs_per_group": 2, "max_chars": 200, "seed": 3}


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
        proc = subprocess.Popen([str(exe), "serve", folder, "--host", "127.0.0.1", "--port",
                                 str(port), "--device", "cpu"], stdout=fh, stderr=fh, env=env)
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


def test_all_stages_over_http(served_model: tuple[str, str], small_corpus: Path,
                              tmp_path: Path) -> None:
    url, model = served_model
    teacher = OpenAITeacher(url, model, timeout_s=120, concurrency=2, max_new_tokens=160,
                            max_retries=2, seed=3)
    run = RunDir(tmp_path / "run")
    only = {"only": []}
    corpus = by_source(small_corpus)
    grouping = drive(("groups",), corpus, run, TeacherSettings(), SIZES | only, {})
    first = sorted(grouping["groups"])[0]
    summary = drive(("rubrics", "annotate"), corpus, run, TeacherSettings(batch_size=2),
                    SIZES | {"only": [first]}, {}, teacher=teacher)
    teacher.close()
    GroupingArtifact.model_validate_json(run.grouping.read_text())
    rubric = RubricArtifact.model_validate_json(run.rubric(first).read_text())
    assert rubric.teacher == f"openai:{model}"
    rows = [Annotation.model_validate_json(x)
            for x in run.annotations(first).read_text().splitlines()]
    report = json.loads(run.report.read_text())
    stats = report[f"annotate:{first}"]
    # every document is either labelled (and valid) or counted as failed: never silent
    assert stats["docs"] == SIZES["docs_per_group"] == stats["answered"] + stats["failed"]
    assert len(rows) == stats["answered"] == summary["annotations"][first]
    assert teacher.structured == "json_schema"  # transformers serve ignores, not rejects, it
    assert teacher.http_requests >= SIZES["samples_per_group"] + SIZES["docs_per_group"]
    for row in rows:
        assert set(row.scores) == set(rubric.anchor_names())
