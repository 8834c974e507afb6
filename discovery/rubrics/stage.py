"""Step 2 of the method: the teacher proposes quality dimensions per sampled document of a
group; proposals that are not real dimensions are dropped (``checks.py``), the rest are embedded
and clustered into the group's anchors (rubrics/<group>.json)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from discovery.corpus import balanced
from discovery.grouping.embed import Embedder
from discovery.rubrics import checks
from discovery.rubrics import cluster as rubrics
from discovery.rundir import RunDir
from discovery.teacher import prompts
from discovery.teacher.asking import Item, Outcome, ask_cached
from discovery.teacher.asking import counts as _counts
from discovery.teacher.base import AnswerStats, Teacher
from discovery.teacher.cache import AnnotationCache
from mira.contracts import Document, ProposalAnswer, RubricArtifact
from mira.settings import DiscoverySettings

log = logging.getLogger(__name__)

Corpus = Mapping[str, Sequence[Document]]


def run_rubrics(corpus: Corpus, run: RunDir, teacher: Teacher, ds: DiscoverySettings,
                batch_size: int, groups: Sequence[str], embedder: Embedder,
                failed: dict[str, str]) -> list[RubricArtifact]:
    """Step 2: the teacher proposes dimensions per sampled doc; cluster them into anchors.

    The proposal prompts of every group go to the teacher together (full batches even when a
    group has few samples).  A group without any valid proposal gets no rubric: it is logged,
    reported and added to ``failed``; the other groups go on."""
    chosen = [g for g in run.read_grouping().groups if not groups or g.name in groups]
    samples = {g.name: balanced(corpus, g.sources, ds.samples_per_group, ds.seed,
                                f"rubric:{g.name}") for g in chosen}
    items = [Item(d.id, d.source, prompts.cut(d.text, ds.max_chars))
             for docs in samples.values() for d in docs]
    namespace = (f"propose:{prompts.prompt_hash()}:{ds.dims_per_doc}:{ds.proposal_tokens}:"
                 f"{ds.proposal_temperature}")
    teacher.stats = AnswerStats()
    with AnnotationCache(run.cache) as cache:
        res = ask_cached(
            teacher, cache, items, namespace=namespace, schema=ProposalAnswer,
            prompt=lambda it: prompts.proposal_prompt(
                it.source, it.text, ds.dims_per_doc, text_tokens=ds.proposal_tokens,
                few_shot=not teacher.guided),
            batch_size=batch_size, desc="rubric proposals", temperature=ds.proposal_temperature,
        )
    run.update_report("rubrics", _counts(res) | teacher.stats.as_dict())
    out: list[RubricArtifact] = []
    start = 0
    for name, docs in samples.items():
        part, start = res[start : start + len(docs)], start + len(docs)
        rubric = _rubric_for_group(run, teacher.teacher_id, ds, embedder, name, docs, part)
        if isinstance(rubric, str):
            failed[name] = rubric
        else:
            out.append(rubric)
    return out


def _rubric_for_group(run: RunDir, teacher_id: str, ds: DiscoverySettings, emb: Embedder,
                      group: str, docs: Sequence[Document], res: Sequence[Outcome[Any]]
                      ) -> RubricArtifact | str:
    """The group's rubric from its proposals, or the reason there is none."""
    proposals, invalid = checks.split(p for r in res if r.value is not None
                                      for p in r.value.dimensions)
    rejected = {f"invalid_{k}": invalid.get(k, 0) for k in checks.REASONS}
    if not proposals:
        reason = f"no valid proposal from {len(res)} documents ({sum(invalid.values())} invalid)"
        log.error("group %s: %s (see %s)", group, reason, run.report)
        run.update_report(f"rubrics:{group}", _counts(res) | rejected | {"error": reason})
        return reason
    vecs = emb.encode([rubrics.proposal_text(p) for p in proposals])
    labels = rubrics.cluster_proposals(vecs, rubrics.choose_k(proposals, ds.anchors), ds.seed)
    anchors = rubrics.build_anchors(proposals, vecs, labels)
    counts = _counts(res) | rejected | {
        "proposals": len(proposals), "anchors": len(anchors),
        "distinct_names": len({rubrics.snake(p.name) for p in proposals})}
    rubric = rubrics.make_rubric(group, teacher_id, prompts.prompt_hash(), [d.id for d in docs],
                                 anchors, counts)
    run.write_rubric(rubric)
    run.update_report(f"rubrics:{group}", counts)
    return rubric
