"""Turn raw message bytes into a Document v1, or say precisely why not (a dead-letter reason)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from mira.contracts import DeadLetterReason, Document


@dataclass(frozen=True, slots=True)
class Invalid:
    """A message that cannot be scored: the stable reason code and a human detail."""

    reason: DeadLetterReason
    detail: str


def parse_document(raw: bytes, max_bytes: int) -> Document | Invalid:
    """Validate one message; never raises on bad input."""
    if len(raw) > max_bytes:
        return Invalid(DeadLetterReason.TOO_LARGE, f"{len(raw)} bytes > limit {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid(DeadLetterReason.BAD_UTF8, f"byte {exc.start}: {exc.reason}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} col {exc.colno}"
        return Invalid(DeadLetterReason.INVALID_JSON, f"{where}: {exc.msg}")
    if not isinstance(data, dict):
        kind = type(data).__name__
        return Invalid(DeadLetterReason.INVALID_JSON, f"top level is {kind}, not an object")
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        return _classify(exc)


def _classify(exc: ValidationError) -> Invalid:
    errors = exc.errors()
    missing = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
    if missing:
        return Invalid(DeadLetterReason.MISSING_FIELD, "missing " + ", ".join(missing))
    first = errors[0]
    field = ".".join(map(str, first["loc"])) or "document"
    return Invalid(DeadLetterReason.INVALID_FIELD, f"{field}: {first['msg']}")
