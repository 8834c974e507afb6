"""Run the requested discovery stages in order with one teacher and one embedder."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from discovery.grouping.stage import GroupOptions, run_groups
from discovery.rundir import RunDir
from discovery.stages import (
    AnnotateOptions,
    Corpus,
    RubricOptions,
    run_annotate,
    run_rubrics,
)
from discovery.teacher.base import Teacher
from discovery.teacher.factory import make_teacher
from mira.settings import TeacherSettings

log = logging.getLogger(__name__)


def teacher_from(ts: TeacherSettings, seed: int) -> Teacher:
    return make_teacher(ts.backend, model=ts.model, url=ts.url, api_key=ts.api_key,
                        timeout_s=ts.timeout_s, concurrency=ts.concurrency,
                        batch_size=ts.batch_size, max_new_tokens=ts.max_new_tokens,
                        max_retries=ts.max_retries, seed=seed, device=ts.device,
                        quantize=ts.quantize)


def drive(stages: Sequence[str], corpus: Corpus, run: RunDir, ts: TeacherSettings,
          kw: Mapping[str, Any], pins: Mapping[str, str], teacher: Teacher | None = None
          ) -> dict[str, Any]:
    """Run ``stages``; ``kw`` holds the CLI options (sizes, seed); returns a summary."""
    from discovery.embed import Embedder

    embedder = Embedder()
    only = list(kw.get("only") or ())
    summary: dict[str, Any] = {"run": str(run.root)}
    own = teacher is None
    try:
        if "groups" in stages:
            gopts = GroupOptions(
                k=kw.get("k"), k_range=(int(kw.get("k_min", 3)), int(kw.get("k_max", 8))),
                samples_per_source=int(kw.get("samples_per_source", 16)),
                feature_docs=int(kw.get("feature_docs", 64)),
                embed_weight=float(kw.get("embed_weight", 0.3)), seed=int(kw.get("seed", 0)))
            art = run_groups(corpus, run, gopts, pins, embedder)
            summary["groups"] = {g.name: g.sources for g in art.groups}
        if "rubrics" in stages or "annotate" in stages:
            teacher = teacher or teacher_from(ts, int(kw.get("seed", 0)))
        if "rubrics" in stages and teacher is not None:
            ropts = RubricOptions(
                anchors=int(kw.get("anchors", 15)),
                samples_per_group=int(kw.get("samples_per_group", 16)),
                dims_per_doc=int(kw.get("dims_per_doc", 2)),
                max_chars=int(kw.get("max_chars", 1500)), batch_size=ts.batch_size,
                seed=int(kw.get("seed", 0)), text_tokens=int(kw.get("proposal_tokens", 16)))
            failed: dict[str, str] = {}
            rubrics = run_rubrics(corpus, run, teacher, ropts, only, embedder, failed)
            summary["rubrics"] = {r.group: {"version": r.version, "anchors": r.anchor_names()}
                                  for r in rubrics}
            if failed:
                summary["rubric_failures"] = failed
        if "annotate" in stages and teacher is not None:
            aopts = AnnotateOptions(
                docs_per_group=int(kw.get("docs_per_group", 64)),
                max_chars=int(kw.get("max_chars", 1500)),
                rationale_tokens=int(kw.get("rationale_tokens", 12)),
                batch_size=ts.batch_size, seed=int(kw.get("seed", 0)))
            summary["annotations"] = run_annotate(corpus, run, teacher, aopts, only)
    finally:
        if own and teacher is not None:
            teacher.close()
    return summary
