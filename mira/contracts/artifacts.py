"""Offline artifacts of a discovery run: grouping, rubrics, student cards, corpus reports.

Every artifact carries ``schema_version``; load them with ``mira.contracts.load_artifact``, which
accepts the current and the previous version.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from mira.contracts.teacher import SCORE_MAX, SCORE_MIN
from mira.contracts.wire import NonEmpty, Strict


class GroupInfo(Strict):
    name: NonEmpty
    sources: list[str]
    intra_similarity: float = Field(description="mean cosine over pairs of member sources")
    pinned: list[str] = Field(default_factory=list)
    profile: dict[str, float] = Field(
        default_factory=dict, description="members' mean share of lines per role (the name)"
    )


class GroupingArtifact(Strict):
    """Output of source grouping: which source belongs to which group, and how tight groups are."""

    schema_version: Literal[1] = 1
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


class Anchor(Strict):
    name: NonEmpty
    description: str
    high: list[str] = Field(default_factory=list, description="what a high score looks like")
    low: list[str] = Field(default_factory=list, description="what a low score looks like")
    proposals: list[str] = Field(default_factory=list, description="member proposal names")
    size: int = 0


class RubricArtifact(Strict):
    """Self-anchored rubric for one group (stored as anchors JSONL + this metadata)."""

    schema_version: Literal[1] = 1
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


class AnchorMetrics(Strict):
    """Held-out agreement of one student output with the teacher (distillation report)."""

    spearman: float
    spearman_low: float = Field(default=-1.0, description="95% interval, lower end (Fisher z)")
    spearman_high: float = Field(default=1.0, description="95% interval, upper end")
    mae: float
    baseline_mae: float = Field(description="MAE of predicting the training mean")
    baseline_spearman: float = Field(default=0.0, description="constant predictor: 0 by definition")
    weight: float = Field(description="aggregation weight: from spearman_low (distill/aggregate)")
    n: int = Field(description="held-out documents with a teacher score for this anchor")


class StudentCard(Strict):
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
    dropped_flagged: int = Field(
        default=0, description="annotations of injection-flagged documents left out of training"
    )


# --------------------------------------------------------------------------- corpus

CorpusSkipReason = Literal[
    "binary",
    "bad_utf8",
    "bad_format",
    "empty",
    "too_small",
    "too_large",
    "duplicate",
    "unreadable",
]


class CorpusSourceReport(Strict):
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


class CorpusReport(Strict):
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
