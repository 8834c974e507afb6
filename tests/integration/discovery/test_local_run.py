"""All discovery stages with the real local teacher (the ``teacher_run`` fixture) on a real
corpus sample; artifacts validate, reruns re-ask nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from discovery.rubrics.cluster import content_version
from discovery.run import drive
from discovery.rundir import RunDir
from discovery.teacher.prompts import cut
from mira.contracts import Anchor, Annotation, GroupingArtifact, RubricArtifact
from mira.settings import TeacherSettings
from tests.fixtures.teacher import TEACHER_RUN, corpus_of, sizes

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_artifacts_validate(teacher_run: Path, small_corpus: Path) -> None:
    run = RunDir(teacher_run)
    grouping = GroupingArtifact.model_validate_json(run.grouping.read_text())
    docs = {d.id: d for ds in corpus_of(small_corpus).values() for d in ds}
    assert grouping.k == TEACHER_RUN["k"]
    assert set(grouping.source_to_group()) == {d.source for d in docs.values()}
    for g in grouping.groups:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", g.name)
        rubric = RubricArtifact.model_validate_json(run.rubric(g.name).read_text())
        assert 1 <= len(rubric.anchors) <= TEACHER_RUN["anchors"]
        assert rubric.teacher.startswith("local:")
        assert rubric.version == content_version(
            g.name, rubric.teacher, rubric.prompt_hash, rubric.sample_ids, rubric.anchors
        )
        lines = run.anchors(g.name).read_text().splitlines()
        assert [Anchor.model_validate_json(x).name for x in lines] == rubric.anchor_names()
        rows = [
            Annotation.model_validate_json(x)
            for x in run.annotations(g.name).read_text().splitlines()
        ]
        assert len(rows) >= TEACHER_RUN["docs_per_group"] // 2, "most docs must be labelled"
        for row in rows:
            assert set(row.scores) == set(rubric.anchor_names())
            assert row.rubric_version == rubric.version and row.group == g.name
            assert row.text == cut(docs[row.doc_id].text, TEACHER_RUN["max_chars"])
    report = json.loads(run.report.read_text())
    for g in grouping.groups:
        stats = report[f"annotate:{g.name}"]
        assert stats["docs"] == stats["answered"] + stats["failed"]


def test_rerun_asks_nothing(teacher_run: Path, small_corpus: Path, local_teacher: Any) -> None:
    before = local_teacher.generated_tokens
    drive(
        ("rubrics", "annotate"),
        corpus_of(small_corpus),
        RunDir(teacher_run),
        TeacherSettings(batch_size=8),
        sizes(),
        {},
        teacher=local_teacher,
    )
    assert local_teacher.generated_tokens == before


def test_every_anchor_passes_the_proposal_checks(teacher_run: Path) -> None:
    from discovery.rubrics.checks import anchor_problem

    run = RunDir(teacher_run)
    for g in GroupingArtifact.model_validate_json(run.grouping.read_text()).groups:
        if run.rubric(g.name).is_file():
            rubric = RubricArtifact.model_validate_json(run.rubric(g.name).read_text())
            assert [anchor_problem(a) for a in rubric.anchors] == [None] * len(rubric.anchors)
