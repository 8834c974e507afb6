"""Wire formats: the input document, the scored output, dead letters and their reason codes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Kafka headers on output topics.
H_GROUP = "mira-group"
H_SCORE = "mira-score"
H_DECISION = "mira-decision"
# Kafka headers on the dead-letter topic.
H_ERROR = "mira-error"
H_ERROR_DETAIL = "mira-error-detail"
H_ORIGIN = "mira-origin"

NonEmpty = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Document(Strict):
    """Document v1: the input message (Kafka key = ``id``)."""

    id: NonEmpty
    source: NonEmpty
    text: str
    meta: dict[str, Any] = Field(default_factory=dict)


Decision = Literal["accept", "reject"]


class MiraVerdict(Strict):
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
    """Stable reason codes carried in the ``mira-error`` header / ``error`` field.

    Each member's meaning is in ``REASON_DOCS`` (docs/reason-codes.md is checked against it).
    """

    BLANK = "blank"
    TOO_LARGE = "too_large"
    BAD_UTF8 = "bad_utf8"
    INVALID_JSON = "invalid_json"
    TOO_DEEP = "too_deep"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    INVALID_ID = "invalid_id"
    INVALID_TEXT = "invalid_text"
    EMPTY_TEXT = "empty_text"
    UNKNOWN_SOURCE = "unknown_source"
    NO_THRESHOLD = "no_threshold"
    TOKENIZE_FAILED = "tokenize_failed"
    INFERENCE_FAILED = "inference_failed"
    OUTPUT_TOO_LARGE = "output_too_large"


REASON_DOCS: dict[DeadLetterReason, str] = {
    DeadLetterReason.BLANK: "empty message, or a blank / whitespace-only line",
    DeadLetterReason.TOO_LARGE: "more bytes than document.max_bytes",
    DeadLetterReason.BAD_UTF8: "the bytes are not UTF-8",
    DeadLetterReason.INVALID_JSON: "not JSON (syntax error, truncated, trailing data)",
    DeadLetterReason.TOO_DEEP: "JSON nested deeper than the parser's limit (200 levels)",
    DeadLetterReason.NOT_AN_OBJECT: "valid JSON whose top level is not an object",
    DeadLetterReason.MISSING_FIELD: "a required field (id, source, text) is absent",
    DeadLetterReason.INVALID_FIELD: "a field has the wrong type, or an unknown field is present",
    DeadLetterReason.INVALID_ID: "id or source empty, too long, or holding control characters",
    DeadLetterReason.INVALID_TEXT: "text holds a lone surrogate, a NUL or other unencodable text",
    DeadLetterReason.EMPTY_TEXT: "text is empty or whitespace only",
    DeadLetterReason.UNKNOWN_SOURCE: "source not in the manifest and no fallback group applies",
    DeadLetterReason.NO_THRESHOLD: "the manifest has no threshold for the source, nor a default",
    DeadLetterReason.TOKENIZE_FAILED: "the tokenizer raised on this document alone",
    DeadLetterReason.INFERENCE_FAILED: "the model rejected this document alone (found by "
    "splitting its batch) or returned a wrong shape",
    DeadLetterReason.OUTPUT_TOO_LARGE: "the scored output exceeds the producer's request size: "
    "a stub without payload is dead-lettered instead",
}


class DeadLetter(Strict):
    """A dead-letter record as written by file-based runs (Kafka carries this in headers)."""

    error: DeadLetterReason
    detail: str
    origin: str
    raw: str = Field(description="the original bytes, decoded as UTF-8 with surrogateescape")

    @classmethod
    def of(cls, error: DeadLetterReason, detail: str, origin: str, raw: bytes) -> DeadLetter:
        return cls(
            error=error, detail=detail, origin=origin, raw=raw.decode("utf-8", "surrogateescape")
        )

    def json_line(self) -> str:
        """One JSON line through ``json`` (ASCII): undecodable input bytes survive as ``\\udcXX``
        escapes, and ``raw.encode("utf-8", "surrogateescape")`` restores them exactly."""
        return json.dumps(self.model_dump(mode="json")) + "\n"

    @classmethod
    def from_json_line(cls, line: str) -> DeadLetter:
        """Read a ``json_line`` back (``json`` accepts the surrogate escapes pydantic refuses)."""
        return cls.model_validate(json.loads(line))
