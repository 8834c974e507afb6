"""Build output records: scored documents for accepted/rejected, original bytes for dead-letter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mira.contracts import (
    H_DECISION,
    H_ERROR,
    H_ERROR_DETAIL,
    H_GROUP,
    H_ORIGIN,
    H_SCORE,
    DeadLetterReason,
    Document,
    RepositoryManifest,
    ScoredDocument,
)
from mira.settings import TopicSettings
from scorer.delivery import Kind, OutMessage

UNKNOWN_SOURCE = "_unknown"


@dataclass(frozen=True, slots=True)
class OutputTopics:
    accepted: str
    rejected: str | None
    dlq: str

    @classmethod
    def from_settings(cls, ts: TopicSettings) -> OutputTopics:
        """An empty rejected topic (``MIRA_TOPICS_REJECTED=''``) disables it, like None."""
        return cls(ts.accepted, ts.rejected or None, ts.dlq)


def origin(record: Any) -> str:
    return f"{record.topic}/{record.partition}/{record.offset}"


def _headers(record: Any) -> list[tuple[str, bytes]]:
    raw: Sequence[tuple[str, bytes | None]] = record.headers or []
    return [(k, v if v is not None else b"") for k, v in raw]


def dead_letter(
    record: Any, reason: DeadLetterReason, detail: str, topics: OutputTopics
) -> OutMessage:
    """The original key, value and headers, plus the mira-error headers."""
    value = record.value if record.value is not None else b""
    headers = [(k, v) for k, v in _headers(record) if k not in (H_ERROR, H_ERROR_DETAIL, H_ORIGIN)]
    headers += [
        (H_ERROR, reason.value.encode()),
        (H_ERROR_DETAIL, detail[:1000].encode("utf-8", "replace")),
        (H_ORIGIN, origin(record).encode()),
    ]
    return OutMessage(
        topics.dlq,
        record.key,
        value,
        headers,
        "dead",
        reason.value,
        _timestamp(record),
        origin(record),
    )


def source_label(source: str, manifest: RepositoryManifest) -> str:
    """A source as a metric label: its name if the manifest names it, else ``_unknown`` (the
    label set stays bounded whatever sources the input carries)."""
    return (
        source
        if source in manifest.source_groups or source in manifest.thresholds
        else UNKNOWN_SOURCE
    )


def scored(record: Any, doc: ScoredDocument, topics: OutputTopics, source: str) -> OutMessage:
    """Accepted or rejected output (value = ScoredDocument JSON, mira-* headers); ``source`` is
    the document's :func:`source_label`."""
    verdict = doc.mira
    topic = topics.accepted if verdict.decision == "accept" else topics.rejected
    headers = [
        (H_GROUP, verdict.group.encode()),
        (H_SCORE, repr(verdict.score).encode()),
        (H_DECISION, verdict.decision.encode()),
    ]
    kind: Kind = "accept" if verdict.decision == "accept" else "reject"
    value = scored_value(getattr(record, "value", None), doc)
    return OutMessage(
        topic,
        record.key if record.key is not None else doc.id.encode(),
        value,
        headers,
        kind,
        verdict.group,
        _timestamp(record),
        origin(record),
        source,
    )


def scored_value(raw: bytes | None, doc: ScoredDocument) -> bytes:
    """The input document's own bytes with ``"mira": {...}`` added as its last member.

    The input was admitted as a JSON object with the Document fields only (no ``mira`` key), so
    inserting before its closing brace is valid JSON, and equal to ``doc`` when parsed; the text
    is neither re-encoded nor copied through Python objects.  Anything else: ``doc`` serialised.
    """
    body = raw.strip() if raw else b""
    if not (body.startswith(b"{") and body.endswith(b"}")):
        return doc.model_dump_json().encode()
    return b"".join((body[:-1], b',"mira":', doc.mira.model_dump_json().encode(), b"}"))


def _timestamp(record: Any) -> int:
    ts = getattr(record, "timestamp", None)
    return int(ts) if isinstance(ts, int) and ts > 0 else -1


@dataclass(slots=True)
class Pending:
    """A valid document waiting for its score."""

    record: Any
    doc: Document
    token: Any
