"""Step 2 of the method: the teacher proposes quality dimensions per sampled document of a
group; the proposals are embedded and clustered into the group's anchors (rubrics/<group>.json)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from discovery.corpus import balanced
from discovery.grouping.embed import Embedder
from discovery.rubrics import cluster as rubrics
from discovery.rundir import RunDir
from discovery.teacher import prompts
from discovery.teacher.asking import Item, ask_cached
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

    A group without any valid proposal gets no rubric: it is logged, reported and added to
    ``failed``; the other groups go on."""
    grouping = run.read_grouping()
    out: list[RubricArtifact] = []
    with AnnotationCache(run.cache) as cache:
        for g in grouping.groups:
            if groups and g.name not in groups:
                continue
            rubric = _rubric_for_group(corpus, run, teacher, ds, batch_size, cache, embedder,
                                       g.name, g.sources)
            if isinstance(rubric, str):
                failed[g.name] = rubric
            else:
                out.append(rubric)
    return out


def _rubric_for_group(corpus: Corpus, run: RunDir, teacher: Teacher, ds: DiscoverySettings,
                      batch_size: int, cache: AnnotationCache, emb: Embedder, group: str,
                      sources: Sequence[str]) -> RubricArtifact | str:
    """The group's rubric, or the reason there is none."""
    phash = prompts.prompt_hash()
    namespace = (f"propose:{phash}:{ds.dims_per_doc}:{ds.proposal_tokens}:"
                 f"{ds.proposal_temperature}")
    teacher.stats = AnswerStats()
    docs = balanced(corpus, sources, ds.samples_per_group, ds.seed, f"rubric:{group}")
    items = [Item(d.id, d.source, prompts.cut(d.text, ds.max_chars)) for d in docs]
    res = ask_cached(
        teacher, cache, items, namespace=namespace, schema=ProposalAnswer,
        prompt=lambda it: prompts.proposal_prompt(
            it.source, it.text, ds.dims_per_doc, text_tokens=ds.proposal_tokens,
            few_shot=not teacher.guided),
        batch_size=batch_size, desc=f"rubric {group}", temperature=ds.proposal_temperature,
    )
    proposals = [p for r in res if r.value is not None for p in r.value.dimensions]
    if not proposals:
        reason = f"no valid proposal from {len(res)} documents"
        log.error("group %s: %s (see %s)", group, reason, run.report)
        run.update_report(f"rubrics:{group}", _counts(res) | teacher.stats.as_dict()
                          | {"error": reason})
        return reason
    vecs = emb.encode([rubrics.proposal_text(p) for p in proposals])
    labels = rubrics.cluster_proposals(vecs, rubrics.choose_k(proposals, ds.anchors), ds.seed)
    anchors = rubrics.build_anchors(proposals, vecs, labels)
    counts = _counts(res) | {"proposals": len(proposals), "anchors": len(anchors),
                             "distinct_names": len({rubrics.snake(p.name) for p in proposals})}
    rubric = rubrics.make_rubric(group, teacher.teacher_id, phash, [d.id for d in docs], anchors,
                                 counts)
    run.write_rubric(rubric)
    run.update_report(f"rubrics:{group}", counts | teacher.stats.as_dict())
    return rubric
