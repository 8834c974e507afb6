"""The three discovery stages; each reads the corpus and the run directory, writes artifacts.

Library code: plain arguments in, artifacts out (the CLI loads settings and builds the teacher).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery import prompts
from discovery.asking import Item, Outcome, ask_cached
from discovery.cache import AnnotationCache
from discovery.embed import Embedder
from discovery.rubrics import checks
from discovery.rubrics import cluster as rubrics
from discovery.rundir import RunDir, write_jsonl
from discovery.sampling import balanced
from discovery.teacher.base import AnswerStats, Teacher
from mira.contracts import (
    Annotation,
    Document,
    ProposalAnswer,
    RubricArtifact,
    ScoreAnswer,
)

log = logging.getLogger(__name__)

Corpus = Mapping[str, Sequence[Document]]


@dataclass(frozen=True)
class RubricOptions:
    anchors: int = 15
    samples_per_group: int = 16
    dims_per_doc: int = 2
    max_chars: int = 1500
    batch_size: int = 8
    seed: int = 0
    temperature: float = 0.7  # proposals are sampled (seeded): greedy repeats one idea
    text_tokens: int = 16  # budget of each free text field of a proposal (local backend)


@dataclass(frozen=True)
class AnnotateOptions:
    docs_per_group: int = 64
    max_chars: int = 1500
    rationale_tokens: int = 12
    batch_size: int = 8
    seed: int = 0


def run_rubrics(corpus: Corpus, run: RunDir, teacher: Teacher, opts: RubricOptions,
                groups: Sequence[str] | None = None, embedder: Embedder | None = None,
                failed: dict[str, str] | None = None) -> list[RubricArtifact]:
    """Step 2: the teacher proposes dimensions per sampled doc; cluster them into anchors.

    The proposal prompts of every group go to the teacher together (full batches even when a
    group has few samples).  A group without any valid proposal gets no rubric: it is logged,
    reported and added to ``failed``; the other groups go on."""
    failed = {} if failed is None else failed
    chosen = [g for g in run.read_grouping().groups if not groups or g.name in groups]
    samples = {g.name: balanced(corpus, g.sources, opts.samples_per_group, opts.seed,
                                f"rubric:{g.name}") for g in chosen}
    items = [Item(d.id, d.source, prompts.cut(d.text, opts.max_chars))
             for docs in samples.values() for d in docs]
    teacher.stats = AnswerStats()
    with AnnotationCache(run.cache) as cache:
        res = ask_cached(
            teacher, cache, items, namespace=_proposal_namespace(opts), schema=ProposalAnswer,
            prompt=lambda it: prompts.proposal_prompt(
                it.source, it.text, opts.dims_per_doc, text_tokens=opts.text_tokens,
                few_shot=not teacher.guided),
            batch_size=opts.batch_size, desc="rubric proposals", temperature=opts.temperature,
        )
    run.update_report("rubrics", _counts(res) | teacher.stats.as_dict())
    emb = embedder or Embedder()
    out: list[RubricArtifact] = []
    start = 0
    for name, docs in samples.items():
        part, start = res[start : start + len(docs)], start + len(docs)
        rubric = _rubric_for_group(run, teacher.teacher_id, opts, emb, name, docs, part)
        if isinstance(rubric, str):
            failed[name] = rubric
        else:
            out.append(rubric)
    return out


def _proposal_namespace(opts: RubricOptions) -> str:
    return (f"propose:{prompts.prompt_hash()}:{opts.dims_per_doc}:{opts.text_tokens}:"
            f"{opts.temperature}")


def _rubric_for_group(run: RunDir, teacher_id: str, opts: RubricOptions, emb: Embedder,
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
    labels = rubrics.cluster_proposals(vecs, rubrics.choose_k(proposals, opts.anchors), opts.seed)
    anchors = rubrics.build_anchors(proposals, vecs, labels)
    counts = _counts(res) | rejected | {
        "proposals": len(proposals), "anchors": len(anchors),
        "distinct_names": len({rubrics.snake(p.name) for p in proposals})}
    rubric = rubrics.make_rubric(group, teacher_id, prompts.prompt_hash(), [d.id for d in docs],
                                 anchors, counts)
    run.write_rubric(rubric)
    run.update_report(f"rubrics:{group}", counts)
    return rubric


def run_annotate(corpus: Corpus, run: RunDir, teacher: Teacher, opts: AnnotateOptions,
                 groups: Sequence[str] | None = None) -> dict[str, int]:
    """Step 3a: the teacher scores sampled docs on every anchor; write annotations JSONL."""
    grouping = run.read_grouping()
    written: dict[str, int] = {}
    with AnnotationCache(run.cache) as cache:
        for g in grouping.groups:
            if groups and g.name not in groups:
                continue
            if not run.rubric(g.name).is_file():
                log.error("group %s has no rubric: not annotated", g.name)
                continue
            written[g.name] = _annotate_group(corpus, run, teacher, opts, cache, g.name, g.sources)
    return written


def _annotate_group(corpus: Corpus, run: RunDir, teacher: Teacher, opts: AnnotateOptions,
                    cache: AnnotationCache, group: str, sources: Sequence[str]) -> int:
    rubric = run.read_rubric(group)
    teacher.stats = AnswerStats()
    docs = balanced(corpus, sources, opts.docs_per_group, opts.seed, f"annotate:{group}")
    items = [Item(d.id, d.source, prompts.cut(d.text, opts.max_chars)) for d in docs]
    started = time.perf_counter()
    res = ask_cached(
        teacher, cache, items, namespace=rubric.version, schema=ScoreAnswer,
        prompt=lambda it: prompts.score_prompt(it.source, it.text, rubric.anchors,
                                               rationale_tokens=opts.rationale_tokens,
                                               few_shot=not teacher.guided),
        check=prompts.anchor_check(rubric.anchor_names()), batch_size=opts.batch_size,
        desc=f"annotate {group}",
    )
    rows = [
        Annotation(doc_id=r.item.doc_id, source=r.item.source, group=group, text=r.item.text,
                   rubric_version=rubric.version, teacher=teacher.teacher_id,
                   scores=r.value.by_anchor(),
                   rationales={s.anchor: s.rationale for s in r.value.scores})
        for r in res if r.value is not None
    ]
    write_jsonl(run.annotations(group), rows)
    elapsed = time.perf_counter() - started
    asked = sum(not r.cached for r in res)
    run.update_report(f"annotate:{group}", _counts(res) | teacher.stats.as_dict() | {
        "written": len(rows), "seconds": round(elapsed, 2),
        "docs_per_s": round(asked / elapsed, 4) if asked and elapsed > 0 else None,
    })
    log.info("group %s: %d annotations written (%d failed)", group, len(rows), len(res) - len(rows))
    return len(rows)


def _counts(res: Sequence[object]) -> dict[str, int]:
    ok = sum(getattr(r, "value", None) is not None for r in res)
    cached = sum(bool(getattr(r, "cached", False)) for r in res)
    return {"docs": len(res), "answered": ok, "failed": len(res) - ok, "from_cache": cached}
