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


def run_rubrics(
    corpus: Corpus,
    run: RunDir,
    teacher: Teacher,
    ds: DiscoverySettings,
    batch_size: int,
    groups: Sequence[str],
    embedder: Embedder,
    failed: dict[str, str],
) -> list[RubricArtifact]:
    """Step 2: the teacher proposes dimensions per sampled doc; cluster them into anchors.

    The proposal prompts of every group go to the teacher together (full batches even when a
    group has few samples).  A group left without a valid proposal gets ``samples_per_group``
    new documents in the next round, up to ``proposal_rounds`` rounds; a group still without one
    gets no rubric: it is logged, reported and added to ``failed``; the other groups go on."""
    chosen = {
        g.name: g.sources for g in run.read_grouping().groups if not groups or g.name in groups
    }
    asked: dict[str, list[Document]] = {name: [] for name in chosen}
    answers: dict[str, list[Outcome[Any]]] = {name: [] for name in chosen}
    pending = list(chosen)
    teacher.stats = AnswerStats()
    with AnnotationCache(run.cache) as cache:
        for rnd in range(ds.proposal_rounds):
            new = {n: _more(corpus, n, chosen[n], asked[n], ds, rnd) for n in pending}
            res = _propose(
                teacher, cache, [d for docs in new.values() for d in docs], ds, batch_size
            )
            start = 0
            for name, docs in new.items():
                asked[name] += docs
                answers[name] += res[start : start + len(docs)]
                start += len(docs)
            pending = [n for n in pending if new[n] and not _any_valid(answers[n])]
            if not pending:
                break
            log.info("round %d: no valid proposal yet for %s", rnd + 1, ", ".join(pending))
    run.update_report(
        "rubrics", _counts([r for a in answers.values() for r in a]) | teacher.stats.as_dict()
    )
    out: list[RubricArtifact] = []
    for name in chosen:
        rubric = _rubric_for_group(
            run, teacher.teacher_id, ds, embedder, name, asked[name], answers[name]
        )
        if isinstance(rubric, str):
            failed[name] = rubric
        else:
            out.append(rubric)
    return out


def _more(
    corpus: Corpus,
    group: str,
    sources: Sequence[str],
    asked: Sequence[Document],
    ds: DiscoverySettings,
    rnd: int,
) -> list[Document]:
    """The next ``samples_per_group`` documents of the group's balanced sample (round ``rnd``)."""
    seen = {d.id for d in asked}
    pool = balanced(corpus, sources, ds.samples_per_group * (rnd + 1), ds.seed, f"rubric:{group}")
    return [d for d in pool if d.id not in seen]


def _propose(
    teacher: Teacher,
    cache: AnnotationCache,
    docs: Sequence[Document],
    ds: DiscoverySettings,
    batch_size: int,
) -> list[Outcome[Any]]:
    items = [Item(d.id, d.source, prompts.cut(d.text, ds.max_chars)) for d in docs]
    namespace = (
        f"propose:{prompts.prompt_hash()}:{ds.dims_per_doc}:{ds.proposal_tokens}:"
        f"{ds.proposal_temperature}"
    )
    return ask_cached(
        teacher,
        cache,
        items,
        namespace=namespace,
        schema=ProposalAnswer,
        prompt=lambda it: prompts.proposal_prompt(
            it.source,
            it.text,
            ds.dims_per_doc,
            text_tokens=ds.proposal_tokens,
            few_shot=not teacher.guided,
        ),
        batch_size=batch_size,
        desc="rubric proposals",
        temperature=ds.proposal_temperature,
    )


def _any_valid(res: Sequence[Outcome[Any]]) -> bool:
    return bool(checks.split(p for r in res if r.value is not None for p in r.value.dimensions)[0])


def _rubric_for_group(
    run: RunDir,
    teacher_id: str,
    ds: DiscoverySettings,
    emb: Embedder,
    group: str,
    docs: Sequence[Document],
    res: Sequence[Outcome[Any]],
) -> RubricArtifact | str:
    """The group's rubric from its proposals, or the reason there is none."""
    proposals, invalid = checks.split(
        p for r in res if r.value is not None for p in r.value.dimensions
    )
    rejected = {f"invalid_{k}": invalid.get(k, 0) for k in checks.REASONS}
    if not proposals:
        reason = f"no valid proposal from {len(res)} documents ({sum(invalid.values())} invalid)"
        log.error("group %s: %s (see %s)", group, reason, run.report)
        run.update_report(f"rubrics:{group}", _counts(res) | rejected | {"error": reason})
        return reason
    vecs = emb.encode([rubrics.proposal_text(p) for p in proposals])
    labels = rubrics.cluster_proposals(vecs, rubrics.choose_k(proposals, ds.anchors), ds.seed)
    anchors = rubrics.build_anchors(proposals, vecs, labels)
    counts = (
        _counts(res)
        | rejected
        | {
            "proposals": len(proposals),
            "anchors": len(anchors),
            "distinct_names": len({rubrics.snake(p.name) for p in proposals}),
        }
    )
    rubric = rubrics.make_rubric(
        group, teacher_id, prompts.prompt_hash(), [d.id for d in docs], anchors, counts
    )
    run.write_rubric(rubric)
    run.update_report(f"rubrics:{group}", counts)
    return rubric
