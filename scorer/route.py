"""Routing: which group scores a document, and what the scores decide (no transport, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mira.contracts import (
    DeadLetterReason,
    Document,
    MiraVerdict,
    RepositoryManifest,
    ScoredDocument,
)
from scorer.validate import Invalid

UnknownSource = Literal["fallback", "dead-letter"]


def resolve_group(
    doc: Document, manifest: RepositoryManifest, unknown_source: UnknownSource = "fallback"
) -> str | Invalid:
    """The group of ``doc.source``; unseen sources use the fallback group or are dead-lettered."""
    group = manifest.source_groups.get(doc.source)
    if group is not None:
        return group
    if unknown_source == "fallback" and manifest.fallback_group is not None:
        return manifest.fallback_group
    why = "no fallback group" if unknown_source == "fallback" else "unknown_source=dead-letter"
    detail = f"source {doc.source!r} not in manifest ({why})"
    return Invalid(DeadLetterReason.UNKNOWN_SOURCE, detail)


def threshold_for(source: str, manifest: RepositoryManifest) -> float:
    """Per-source threshold, else the default; a manifest without either cannot decide."""
    value = manifest.threshold_of(source)
    if value is None:
        raise KeyError(f"no threshold for source {source!r} and no default_threshold")
    return value


def decide(
    doc: Document,
    group: str,
    anchors: Mapping[str, float],
    score: float,
    manifest: RepositoryManifest,
) -> ScoredDocument:
    """Accept iff ``score >= threshold(doc.source)``; returns the scored output document."""
    gm = manifest.groups[group]
    threshold = threshold_for(doc.source, manifest)
    verdict = MiraVerdict(
        group=group,
        score=float(score),
        anchors={k: float(v) for k, v in anchors.items()},
        threshold=float(threshold),
        decision="accept" if score >= threshold else "reject",
        model=gm.model,
        model_version=gm.version,
        rubric_version=gm.rubric_version,
    )
    return ScoredDocument(id=doc.id, source=doc.source, text=doc.text, meta=doc.meta, mira=verdict)
