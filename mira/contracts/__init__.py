"""Every data contract of mira, versioned, in one package.

Wire formats (Kafka payloads and headers, dead letters), what the teacher answers, offline
artifacts and the model repository manifest are pydantic v2 models.  Changing an artifact's
fields is a contract change: bump its ``schema_version`` and register a migration from the
previous version (``mira.contracts.versioning``); ``load_artifact`` reads both.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel

from mira.contracts.artifacts import (
    Anchor,
    AnchorMetrics,
    CorpusReport,
    CorpusSkipReason,
    CorpusSourceReport,
    GroupInfo,
    GroupingArtifact,
    RubricArtifact,
    StudentCard,
)
from mira.contracts.manifest import GroupModel, RepositoryManifest
from mira.contracts.teacher import (
    SCORE_MAX,
    SCORE_MIN,
    AnchorScore,
    Annotation,
    InjectionFlag,
    ProposalAnswer,
    ProposedDimension,
    ScoreAnswer,
)
from mira.contracts.versioning import ArtifactError, load_artifact, migrates
from mira.contracts.wire import (
    H_DECISION,
    H_ERROR,
    H_ERROR_DETAIL,
    H_GROUP,
    H_ORIGIN,
    H_SCORE,
    REASON_DOCS,
    DeadLetter,
    DeadLetterReason,
    Decision,
    Document,
    MiraVerdict,
    NonEmpty,
    ScoredDocument,
)

__all__ = [
    "CONTRACTS",
    "H_DECISION",
    "H_ERROR",
    "H_ERROR_DETAIL",
    "H_GROUP",
    "H_ORIGIN",
    "H_SCORE",
    "REASON_DOCS",
    "SCORE_MAX",
    "SCORE_MIN",
    "Anchor",
    "AnchorMetrics",
    "AnchorScore",
    "Annotation",
    "ArtifactError",
    "CorpusReport",
    "CorpusSkipReason",
    "CorpusSourceReport",
    "DeadLetter",
    "DeadLetterReason",
    "Decision",
    "Document",
    "GroupInfo",
    "GroupModel",
    "GroupingArtifact",
    "InjectionFlag",
    "MiraVerdict",
    "NonEmpty",
    "ProposalAnswer",
    "ProposedDimension",
    "RepositoryManifest",
    "RubricArtifact",
    "ScoreAnswer",
    "ScoredDocument",
    "StudentCard",
    "load_artifact",
    "migrates",
    "text_hash",
]


@migrates(RepositoryManifest)
def _manifest_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: v2 adds the per-source pre-cut ratios (absent: cut at ``max_chars`` only)."""
    return {**data, "schema_version": 2}


@migrates(Annotation)
def _annotation_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: v2 adds the injection flags (absent: none were looked for, so none)."""
    return {**data, "schema_version": 2, "flags": []}


CONTRACTS: dict[str, type[BaseModel]] = {
    "document": Document,
    "scored-document": ScoredDocument,
    "dead-letter": DeadLetter,
    "grouping": GroupingArtifact,
    "rubric": RubricArtifact,
    "manifest": RepositoryManifest,
    "proposal-answer": ProposalAnswer,
    "score-answer": ScoreAnswer,
    "annotation": Annotation,
    "corpus-report": CorpusReport,
    "student-card": StudentCard,
}


def text_hash(text: str) -> str:
    """Stable content hash used for cache keys and document ids."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
