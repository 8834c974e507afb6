"""Run the requested discovery stages in order with one teacher and one embedder."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from discovery.rundir import RunDir
from discovery.teacher.base import Teacher
from discovery.teacher.factory import make_teacher
from mira.contracts import Document
from mira.settings import DiscoverySettings, TeacherSettings

log = logging.getLogger(__name__)

STAGES = ("groups", "rubrics", "annotate")


def drive(
    stages: Sequence[str],
    corpus: Mapping[str, Sequence[Document]],
    run: RunDir,
    ts: TeacherSettings,
    ds: DiscoverySettings,
    pins: Mapping[str, str],
    only: Sequence[str] = (),
    teacher: Teacher | None = None,
) -> dict[str, Any]:
    """Run ``stages`` over ``corpus`` (documents by source) into ``run``; returns a summary."""
    from discovery.annotation.stage import run_annotate
    from discovery.grouping.embed import Embedder
    from discovery.grouping.stage import run_groups
    from discovery.rubrics.stage import run_rubrics

    embedder = Embedder(max_length=ds.embed_max_length)
    summary: dict[str, Any] = {"run": str(run.root)}
    own = teacher is None
    try:
        if "groups" in stages:
            art = run_groups(corpus, run, ds, pins, embedder)
            summary["groups"] = {g.name: g.sources for g in art.groups}
        if "rubrics" in stages or "annotate" in stages:
            teacher = teacher or make_teacher(ts, ds.seed)
        if "rubrics" in stages and teacher is not None:
            failed: dict[str, str] = {}
            rubrics = run_rubrics(corpus, run, teacher, ds, ts.batch_size, only, embedder, failed)
            summary["rubrics"] = {
                r.group: {"version": r.version, "anchors": r.anchor_names()} for r in rubrics
            }
            if failed:
                summary["rubric_failures"] = failed
        if "annotate" in stages and teacher is not None:
            summary["annotations"] = run_annotate(corpus, run, teacher, ds, ts.batch_size, only)
    finally:
        if own and teacher is not None:
            teacher.close()
    return summary
