"""Admission: any bytes in, a Document v1 or a dead-letter reason out.  Never raises.

pydantic's JSON parser (jiter) does the parsing: it has a recursion limit (200 levels) and
refuses lone surrogate escapes and invalid UTF-8; its errors are mapped to stable reason codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from mira.contracts import DeadLetterReason, Document
from mira.settings import DocumentSettings

R = DeadLetterReason
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Invalid:
    """A record that cannot be scored: the stable reason code and a human detail."""

    reason: DeadLetterReason
    detail: str


def admit(
    raw: bytes | None, limits: DocumentSettings, size: int | None = None
) -> Document | Invalid:
    """Judge one record; ``size`` is its full length when ``raw`` was cut at the limit."""
    if not raw or raw.isspace():
        return Invalid(R.BLANK, "empty record" if not raw else "whitespace only")
    size = len(raw) if size is None else size
    if size > limits.max_bytes:
        return Invalid(R.TOO_LARGE, f"{size} bytes > limit {limits.max_bytes}")
    try:
        doc = Document.model_validate_json(raw)
    except ValidationError as exc:
        return _classify(exc, raw)
    except (RecursionError, MemoryError, ValueError) as exc:  # defensive: parser limits
        return Invalid(R.INVALID_JSON, f"{type(exc).__name__}: {exc}"[:200])
    return _check(doc, limits)


def _check(doc: Document, limits: DocumentSettings) -> Document | Invalid:
    """What the schema cannot say: lengths, control characters, usable text."""
    for name, value, reason in (
        ("id", doc.id, R.INVALID_ID),
        ("source", doc.source, R.INVALID_FIELD),
    ):
        if len(value) > limits.max_id_chars:
            return Invalid(reason, f"{name}: {len(value)} characters > {limits.max_id_chars}")
        if _CONTROL.search(value):
            return Invalid(reason, f"{name}: holds control characters")
    if "\x00" in doc.text:
        return Invalid(R.INVALID_TEXT, f"text holds a NUL at character {doc.text.index(chr(0))}")
    if not doc.text or doc.text.isspace():  # (no copy of the text, unlike strip)
        return Invalid(R.EMPTY_TEXT, "text is empty" if not doc.text else "text is whitespace")
    return doc


def _classify(exc: ValidationError, raw: bytes) -> Invalid:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return _json_error(first["msg"], raw)
    if first["type"] in ("model_type", "model_attributes_type") and not first["loc"]:
        return Invalid(R.NOT_AN_OBJECT, "top level is not a JSON object")
    missing = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
    if missing:
        return Invalid(R.MISSING_FIELD, "missing " + ", ".join(missing))
    field = ".".join(map(str, first["loc"])) or "document"
    reason = R.INVALID_ID if first["loc"][:1] == ("id",) else R.INVALID_FIELD
    return Invalid(reason, f"{field}: {first['msg']}"[:300])


def _json_error(msg: str, raw: bytes) -> Invalid:
    detail = msg.removeprefix("Invalid JSON: ")[:200]
    if "recursion limit" in detail:
        return Invalid(R.TOO_DEEP, detail)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Invalid(R.BAD_UTF8, f"byte {err.start}: {err.reason}")
    if "escape" in detail or "surrogate" in detail:
        return Invalid(R.INVALID_TEXT, f"{detail} (a lone surrogate?)")
    return Invalid(R.INVALID_JSON, detail)
