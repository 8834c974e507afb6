"""Step 3a of the method: the teacher scores sampled documents of a group on every anchor of its
rubric (0-5 plus a rationale, schema-checked) into annotations/<group>.jsonl."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from discovery.corpus import balanced
from discovery.rundir import RunDir, write_jsonl
from discovery.teacher import prompts
from discovery.teacher.asking import Item, ask_cached
from discovery.teacher.asking import counts as _counts
from discovery.teacher.base import AnswerStats, Teacher
from discovery.teacher.cache import AnnotationCache
from discovery.teacher.injection import flags
from mira.contracts import Annotation, Document, ScoreAnswer
from mira.settings import DiscoverySettings

log = logging.getLogger(__name__)

Corpus = Mapping[str, Sequence[Document]]


def run_annotate(
    corpus: Corpus,
    run: RunDir,
    teacher: Teacher,
    ds: DiscoverySettings,
    batch_size: int,
    groups: Sequence[str],
) -> dict[str, int]:
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
            written[g.name] = _annotate_group(
                corpus, run, teacher, ds, batch_size, cache, g.name, g.sources
            )
    return written


def _annotate_group(
    corpus: Corpus,
    run: RunDir,
    teacher: Teacher,
    ds: DiscoverySettings,
    batch_size: int,
    cache: AnnotationCache,
    group: str,
    sources: Sequence[str],
) -> int:
    rubric = run.read_rubric(group)
    teacher.stats = AnswerStats()
    docs = balanced(corpus, sources, ds.docs_per_group, ds.seed, f"annotate:{group}")
    items = [Item(d.id, d.source, prompts.cut(d.text, ds.max_chars)) for d in docs]
    started = time.perf_counter()
    res = ask_cached(
        teacher,
        cache,
        items,
        namespace=rubric.version,
        schema=ScoreAnswer,
        prompt=lambda it: prompts.score_prompt(
            it.source,
            it.text,
            rubric.anchors,
            rationale_tokens=ds.rationale_tokens,
            few_shot=not teacher.guided,
        ),
        check=prompts.anchor_check(rubric.anchor_names()),
        batch_size=batch_size,
        desc=f"annotate {group}",
    )
    rows = [
        Annotation(
            doc_id=r.item.doc_id,
            source=r.item.source,
            group=group,
            text=r.item.text,
            rubric_version=rubric.version,
            teacher=teacher.teacher_id,
            scores=r.value.by_anchor(),
            rationales={s.anchor: s.rationale for s in r.value.scores},
            flags=flags(r.item.text),
        )
        for r in res
        if r.value is not None
    ]
    write_jsonl(run.annotations(group), rows)
    elapsed = time.perf_counter() - started
    asked = sum(not r.cached for r in res)
    run.update_report(
        f"annotate:{group}",
        _counts(res)
        | teacher.stats.as_dict()
        | {
            "written": len(rows),
            "flagged_injection": sum(bool(r.flags) for r in rows),
            "seconds": round(elapsed, 2),
            "docs_per_s": round(asked / elapsed, 4) if asked and elapsed > 0 else None,
        },
    )
    log.info("group %s: %d annotations written (%d failed)", group, len(rows), len(res) - len(rows))
    return len(rows)
