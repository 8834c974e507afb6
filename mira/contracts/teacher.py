"""What the teacher answers (proposals, scores) and the annotation records built from them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mira.contracts.wire import NonEmpty, Strict

SCORE_MIN = 0
SCORE_MAX = 5

# Injection patterns a document may hold (discovery/teacher/injection.py detects them).
InjectionFlag = Literal["override", "score_directive", "role_marker", "delimiter"]


class ProposedDimension(Strict):
    """One quality dimension the teacher freely proposes for a document."""

    name: Annotated[str, Field(min_length=2, max_length=80)]
    description: Annotated[str, Field(min_length=5, max_length=600)]
    high: Annotated[str, Field(min_length=1, max_length=600)]
    low: Annotated[str, Field(min_length=1, max_length=600)]


class ProposalAnswer(Strict):
    dimensions: Annotated[list[ProposedDimension], Field(min_length=1, max_length=12)]


class AnchorScore(Strict):
    anchor: NonEmpty
    score: Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]
    rationale: Annotated[str, Field(max_length=600)]


class ScoreAnswer(Strict):
    scores: list[AnchorScore]

    def by_anchor(self) -> dict[str, int]:
        return {s.anchor: s.score for s in self.scores}


class Annotation(Strict):
    """One teacher-labelled document (``run/annotations/<group>.jsonl``), input of distillation."""

    schema_version: Literal[2] = 2
    doc_id: NonEmpty
    source: NonEmpty
    group: NonEmpty
    text: str = Field(
        description="the text the teacher rated (after truncation; in the prompt, delimiter "
        "look-alikes are escaped)"
    )
    rubric_version: NonEmpty
    teacher: NonEmpty
    scores: dict[str, Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]]
    rationales: dict[str, str] = Field(default_factory=dict)
    flags: list[InjectionFlag] = Field(
        default_factory=list,
        description="injection patterns the text holds (it addressed the teacher); empty if none",
    )
