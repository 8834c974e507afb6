"""Routing and deciding: which group scores a document, and what its scores decide.

Both are pure (no transport, no I/O); a manifest without what a document needs gives a dead-letter
reason, never an exception.
"""

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
from mira.engine.admit import Invalid

UnknownSource = Literal["fallback", "dead-letter"]


def route(
    doc: Document, manifest: RepositoryManifest, unknown_source: UnknownSource
) -> str | Invalid:
    """The group of ``doc.source`` (unseen sources: the fallback group, or dead-letter)."""
    group = manifest.source_groups.get(doc.source)
    if group is None:
        if unknown_source != "fallback" or manifest.fallback_group is None:
            why = (
                "no fallback group"
                if unknown_source == "fallback"
                else "unknown_source=dead-letter"
            )
            return Invalid(
                DeadLetterReason.UNKNOWN_SOURCE, f"source {doc.source!r} not in manifest ({why})"
            )
        group = manifest.fallback_group
    if manifest.threshold_of(doc.source) is None:
        return Invalid(
            DeadLetterReason.NO_THRESHOLD,
            f"no threshold for source {doc.source!r} and no default_threshold",
        )
    return group


def decide(
    doc: Document,
    group: str,
    anchors: Mapping[str, float],
    score: float,
    manifest: RepositoryManifest,
) -> ScoredDocument | Invalid:
    """Accept iff ``score >= threshold(doc.source)``; returns the scored output document."""
    gm = manifest.groups.get(group)
    threshold = manifest.threshold_of(doc.source)
    if gm is None or threshold is None:
        what = f"group {group!r}" if gm is None else f"a threshold for {doc.source!r}"
        return Invalid(DeadLetterReason.NO_THRESHOLD, f"the manifest no longer has {what}")
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
