"""The model repository manifest: everything the scorer needs to route and decide."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from mira.contracts.wire import NonEmpty, Strict


class GroupModel(Strict):
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


class RepositoryManifest(Strict):
    """``model_repository/mira_manifest.json``: everything the scorer needs to route."""

    schema_version: Literal[2] = 2
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
    chars_per_token: dict[str, float] = Field(
        default_factory=dict,
        description="per source: characters per student token measured at calibration; the "
        "scorer cuts a text to max_length * this * pre_cut_margin characters before tokenizing",
    )
    default_chars_per_token: float | None = Field(
        default=None, description="pre-cut ratio for sources without their own"
    )
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

    def chars_per_token_of(self, source: str) -> float | None:
        return self.chars_per_token.get(source, self.default_chars_per_token)

    def threshold_of(self, source: str) -> float | None:
        return self.thresholds.get(source, self.default_threshold)
