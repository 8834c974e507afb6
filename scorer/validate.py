"""Turn raw message bytes into a Document v1, or say precisely why not (a dead-letter reason)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from mira.contracts import DeadLetterReason, Document

# JSON nesting a document may have: pydantic cannot serialize ~250 levels (the scored output)
MAX_NESTING = 64


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
    except RecursionError:  # e.g. 100k nested '[': hostile, must not end the process
        return Invalid(DeadLetterReason.INVALID_JSON, "nested too deeply")
    if not isinstance(data, dict):
        kind = type(data).__name__
        return Invalid(DeadLetterReason.INVALID_JSON, f"top level is {kind}, not an object")
    if _deeper_than(data, MAX_NESTING):  # could not be serialized again (scored output)
        return Invalid(DeadLetterReason.INVALID_JSON, f"nested deeper than {MAX_NESTING} levels")
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        return _classify(exc)


def _deeper_than(data: object, limit: int) -> bool:
    """Whether JSON ``data`` nests containers more than ``limit`` deep (iterative)."""
    stack: list[tuple[dict[str, object] | list[object], int]] = []
    if isinstance(data, dict | list):
        stack.append((data, 1))
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _classify(exc: ValidationError) -> Invalid:
    errors = exc.errors()
    missing = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
    if missing:
        return Invalid(DeadLetterReason.MISSING_FIELD, "missing " + ", ".join(missing))
    first = errors[0]
    field = ".".join(map(str, first["loc"])) or "document"
    return Invalid(DeadLetterReason.INVALID_FIELD, f"{field}: {first['msg']}")
