"""Every data contract of mira, versioned, in one place.

Wire formats (Kafka payloads and headers), offline artifacts (grouping, rubrics) and the model
repository manifest are all pydantic v2 models.  Changing a field here is a contract change: bump
the matching ``*_VERSION`` constant and keep readers of the previous version working.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DOCUMENT_VERSION: Literal[1] = 1
RUBRIC_VERSION: Literal[1] = 1
GROUPING_VERSION: Literal[1] = 1
MANIFEST_VERSION: Literal[1] = 1

SCORE_MIN = 0
SCORE_MAX = 5

# Kafka headers on output topics.
H_GROUP = "mira-group"
H_SCORE = "mira-score"
H_DECISION = "mira-decision"
# Kafka headers on the dead-letter topic.
H_ERROR = "mira-error"
H_ERROR_DETAIL = "mira-error-detail"
H_ORIGIN = "mira-origin"

NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------- wire


class Document(_Strict):
    """Document v1: the input message (Kafka key = ``id``)."""

    id: NonEmpty
    source: NonEmpty
    text: str
    meta: dict[str, Any] = Field(default_factory=dict)


Decision = Literal["accept", "reject"]


class MiraVerdict(_Strict):
    """What mira adds to a scored document, under the ``mira`` key."""

    group: str
    score: float
    anchors: dict[str, float]
    threshold: float
    decision: Decision
    model: str
    model_version: int
    rubric_version: str


class ScoredDocument(Document):
    """Output message on the accepted / rejected topics: the input plus ``mira``."""

    mira: MiraVerdict


class DeadLetterReason(StrEnum):
    """Stable reason codes carried in the ``mira-error`` header / ``error`` field."""

    INVALID_JSON = "invalid_json"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    TOO_LARGE = "too_large"
    UNKNOWN_SOURCE = "unknown_source"
    BAD_UTF8 = "bad_utf8"
    INFERENCE_FAILED = "inference_failed"


class DeadLetter(_Strict):
    """A dead-letter record as written by file-based runs (Kafka carries this in headers)."""

    error: DeadLetterReason
    detail: str
    origin: str
    raw: str = Field(description="the original bytes, decoded as UTF-8 with surrogateescape")


# --------------------------------------------------------------------------- teacher answers


class ProposedDimension(_Strict):
    """One quality dimension the teacher freely proposes for a document."""

    name: Annotated[str, Field(min_length=2, max_length=80)]
    description: Annotated[str, Field(min_length=5, max_length=600)]
    high: Annotated[str, Field(min_length=1, max_length=600)]
    low: Annotated[str, Field(min_length=1, max_length=600)]


class ProposalAnswer(_Strict):
    dimensions: Annotated[list[ProposedDimension], Field(min_length=1, max_length=12)]


class AnchorScore(_Strict):
    anchor: NonEmpty
    score: Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]
    rationale: Annotated[str, Field(max_length=600)]


class ScoreAnswer(_Strict):
    scores: list[AnchorScore]

    def by_anchor(self) -> dict[str, int]:
        return {s.anchor: s.score for s in self.scores}


class Annotation(_Strict):
    """One teacher-labelled document (``run/annotations/<group>.jsonl``), input of distillation."""

    doc_id: NonEmpty
    source: NonEmpty
    group: NonEmpty
    text: str = Field(description="the text exactly as the teacher saw it (after truncation)")
    rubric_version: NonEmpty
    teacher: NonEmpty
    scores: dict[str, Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]]
    rationales: dict[str, str] = Field(default_factory=dict)


# --------------------------------------------------------------------------- artifacts


class GroupInfo(_Strict):
    name: NonEmpty
    sources: list[str]
    intra_similarity: float = Field(description="mean cosine over pairs of member sources")
    pinned: list[str] = Field(default_factory=list)
    profile: dict[str, float] = Field(
        default_factory=dict, description="members' mean share of lines per role (the name)"
    )


class GroupingArtifact(_Strict):
    """Output of source grouping: which source belongs to which group, and how tight groups are."""

    schema_version: Literal[1] = GROUPING_VERSION
    embedder: str
    representation: str = Field(default="", description="what a source vector is made of")
    k: int
    k_selection: Literal["given", "silhouette"]
    silhouette: float | None = None
    silhouette_by_k: dict[int, float] = Field(default_factory=dict)
    groups: list[GroupInfo]
    inter_similarity: dict[str, dict[str, float]] = Field(
        description="mean cosine over pairs (source of a, source of b)"
    )
    docs_per_source: dict[str, int]

    def source_to_group(self) -> dict[str, str]:
        return {src: g.name for g in self.groups for src in g.sources}


class Anchor(_Strict):
    name: NonEmpty
    description: str
    high: list[str] = Field(default_factory=list, description="what a high score looks like")
    low: list[str] = Field(default_factory=list, description="what a low score looks like")
    proposals: list[str] = Field(default_factory=list, description="member proposal names")
    size: int = 0


class RubricArtifact(_Strict):
    """Self-anchored rubric for one group (stored as anchors JSONL + this metadata)."""

    schema_version: Literal[1] = RUBRIC_VERSION
    group: NonEmpty
    version: NonEmpty
    scale: tuple[int, int] = (SCORE_MIN, SCORE_MAX)
    teacher: NonEmpty
    prompt_hash: NonEmpty
    sample_ids: list[str]
    anchors: Annotated[list[Anchor], Field(min_length=1)]
    counts: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_anchor_names(self) -> RubricArtifact:
        names = [a.name for a in self.anchors]
        if len(set(names)) != len(names):
            raise ValueError(f"anchor names must be unique, got {names}")
        return self

    def anchor_names(self) -> list[str]:
        return [a.name for a in self.anchors]


# --------------------------------------------------------------------------- model repository


class GroupModel(_Strict):
    """One student scorer (one Triton model) serving one group."""

    model: NonEmpty
    version: Annotated[int, Field(ge=1)]
    anchors: Annotated[list[str], Field(min_length=1)]
    weights: list[float]
    rubric_version: NonEmpty
    agreement: dict[str, float] = Field(
        default_factory=dict, description="held-out Spearman per anchor"
    )
    files: dict[str, str] = Field(default_factory=dict, description="relative path -> sha256")

    @model_validator(mode="after")
    def _weights_match(self) -> GroupModel:
        if len(self.weights) != len(self.anchors):
            raise ValueError("weights and anchors must have the same length")
        return self


class RepositoryManifest(_Strict):
    """``model_repository/mira_manifest.json``: everything the scorer needs to route."""

    schema_version: Literal[1] = MANIFEST_VERSION
    groups: dict[str, GroupModel]
    source_groups: dict[str, str]
    fallback_group: str | None = None
    thresholds: dict[str, float] = Field(description="per-source score threshold")
    default_threshold: float | None = Field(
        default=None, description="threshold for sources without their own (fallback group)"
    )
    budget: Annotated[float, Field(gt=0, le=1)]
    tokenizer: NonEmpty
    max_length: Annotated[int, Field(ge=8)]
    max_chars: Annotated[int, Field(ge=64)]
    rubric_versions: dict[str, str] = Field(default_factory=dict)
    created_at: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> RepositoryManifest:
        unknown = {g for g in self.source_groups.values() if g not in self.groups}
        if self.fallback_group is not None and self.fallback_group not in self.groups:
            unknown.add(self.fallback_group)
        if unknown:
            raise ValueError(f"source_groups/fallback name unknown groups: {sorted(unknown)}")
        return self

    def group_of(self, source: str) -> str | None:
        return self.source_groups.get(source, self.fallback_group)

    def threshold_of(self, source: str) -> float | None:
        return self.thresholds.get(source, self.default_threshold)


# --------------------------------------------------------------------------- students


class AnchorMetrics(_Strict):
    """Held-out agreement of one student output with the teacher (distillation report)."""

    spearman: float
    spearman_low: float = Field(default=-1.0, description="95% interval, lower end (Fisher z)")
    spearman_high: float = Field(default=1.0, description="95% interval, upper end")
    mae: float
    baseline_mae: float = Field(description="MAE of predicting the training mean")
    baseline_spearman: float = Field(default=0.0, description="constant predictor: 0 by definition")
    weight: float = Field(description="aggregation weight: from spearman_low (discovery/aggregate)")
    n: int = Field(description="held-out documents with a teacher score for this anchor")


class StudentCard(_Strict):
    """``run/students/<group>/student.json``: how a student was trained and how well it agrees."""

    schema_version: Literal[1] = 1
    group: NonEmpty
    anchors: Annotated[list[str], Field(min_length=1)]
    weights: list[float]
    weights_rule: str
    rubric_version: NonEmpty
    teacher: str
    backbone: NonEmpty
    max_length: int
    max_chars: int
    trainable_layers: int
    seed: int
    n_train: int
    n_heldout: int
    n_stopping: int = Field(default=0, description="rows whose loss drives early stopping")
    early_stopping: Literal["validation", "heldout"] = "validation"
    epochs: int
    best_epoch: int
    train_seconds: float
    metrics: dict[str, AnchorMetrics]
    skipped_lines: list[str] = Field(default_factory=list, description="file:line: why")


# --------------------------------------------------------------------------- corpus

CorpusSkipReason = Literal[
    "binary", "bad_utf8", "bad_format", "empty", "too_small", "too_large", "duplicate",
    "unreadable",
]


class CorpusSourceReport(_Strict):
    """What ``mira corpus build`` found and took for one source."""

    source: NonEmpty
    kind: NonEmpty
    status: Literal["ok", "missing", "empty"]
    package: str | None = Field(default=None, description="Debian package that provides it")
    roots: list[str] = Field(default_factory=list, description="directories/files scanned")
    candidates: int = 0
    docs: int = 0
    bytes: int = 0
    approx_tokens: int = 0
    truncated: int = 0
    skipped: dict[CorpusSkipReason, int] = Field(default_factory=dict)


class CorpusReport(_Strict):
    """``mira corpus build --report FILE``: the build summary (no timestamps: reproducible)."""

    schema_version: Literal[1] = 1
    seed: int
    max_docs: int | None
    per_source_cap: int | None
    docs: int
    sources_ok: int
    missing: list[str] = Field(default_factory=list, description="sources absent on this machine")
    skipped: dict[CorpusSkipReason, int] = Field(default_factory=dict)
    sources: list[CorpusSourceReport]


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
