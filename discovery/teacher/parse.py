"""Turn a raw teacher answer into a validated pydantic object, repairing what can be repaired.

Repairs (each one marks the answer ``repaired``): strip code fences, take the first balanced JSON
object out of surrounding prose, close a truncated object, drop trailing commas, coerce numeric
strings such as ``"4"`` to integers.  Anything else (no JSON at all, wrong types, out-of-range
scores) is an error with a stable reason code; the caller retries or counts it as failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_INT_STRING = re.compile(r"^\s*[+-]?\d+(?:\.0+)?\s*$")


class AnswerError(Exception):
    """A teacher answer that cannot be used; ``reason`` is a stable code for the stats."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Parsed(Generic[T]):
    value: T
    repaired: bool
    repairs: tuple[str, ...] = ()


def _scan(text: str, start: int = 0) -> Iterator[tuple[int, str, bool]]:
    """Each ``(index, char, quoted)`` of ``text`` from ``start``; ``quoted`` is True for the
    characters of a JSON string literal (its quotes included), whose brackets do not count."""
    in_str = esc = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            yield i, ch, True
        elif ch == '"':
            in_str = True
            yield i, ch, True
        else:
            yield i, ch, False


def _balanced_end(text: str, start: int) -> int | None:
    """Index one past the object starting at ``start``, or None when it never closes."""
    depth = 0
    for i, ch, quoted in _scan(text, start):
        if quoted:
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _nesting(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """Each ``(index, char, open)`` outside strings, ``open`` being the closers still needed
    after that char, innermost last (a closer with nothing open is ignored); read-only."""
    stack: list[str] = []
    for i, ch, quoted in _scan(text):
        if quoted:
            continue
        if ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
        yield i, ch, stack


def _close_truncated(fragment: str) -> str:
    """Close an object cut off mid-way (max_new_tokens): drop the dangling tail, add brackets."""
    last_safe = 0
    for i, ch, stack in _nesting(fragment):
        if ch in "}]":
            last_safe = i + 1
        elif ch == "," and stack and stack[-1] == "]":
            last_safe = i  # drop the unfinished last element of a list
    head = fragment[:last_safe] if last_safe else fragment
    # the open brackets of the kept head
    still_open: list[str] = []
    for _, _, stack in _nesting(head):
        still_open = stack
    return head + "".join(reversed(still_open))


_KEY_AHEAD = re.compile(r'\s*"(?:[^"\\]|\\.)*"\s*:')


def fix_structure(text: str) -> tuple[str, bool]:
    """Fix bracket mistakes small models make: a closer that does not match the open bracket is
    replaced by the right one; a ``}`` followed (inside a list) by ``, "key":`` closed its object
    too early and is removed; closers with nothing open are dropped."""
    out: list[str] = []
    stack: list[str] = []
    changed = False
    last_close: int | None = None
    for i, ch, quoted in _scan(text):
        if quoted:
            pass
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                changed = True
                continue
            want = stack.pop()
            if ch != want:
                ch, changed = want, True
            last_close = len(out) if ch == "}" else None
        elif (
            ch == ","
            and stack
            and stack[-1] == "]"
            and last_close is not None
            and _KEY_AHEAD.match(text, i + 1)
        ):
            del out[last_close]
            stack.append("}")
            changed, last_close = True, None
        if not ch.isspace() and ch not in "}]":
            last_close = None if ch != "," else last_close
        out.append(ch)
    return "".join(out), changed


def extract_json(raw: str) -> tuple[str, list[str]]:
    """The JSON object text inside ``raw`` and the list of repairs it took."""
    repairs: list[str] = []
    text = raw.strip()
    fence = _FENCE.search(text)
    if fence and "{" in fence.group(1):
        text = fence.group(1).strip()
        repairs.append("code_fence")
    start = text.find("{")
    if start < 0:
        raise AnswerError("no_json", _clip(raw))
    if start > 0 or text.rstrip()[-1:] != "}":
        end = _balanced_end(text, start)
        if end is None:
            text = _close_truncated(text[start:])
            repairs.append("truncated")
        else:
            if start > 0 or end < len(text.rstrip()):
                repairs.append("extracted")
            text = text[start:end]
    fixed = _TRAILING_COMMA.sub(r"\1", text)
    if fixed != text:
        repairs.append("trailing_comma")
    try:
        json.loads(fixed)
    except json.JSONDecodeError:
        structured, changed = fix_structure(fixed)
        if changed:
            repairs.append("brackets")
            fixed = structured
    return fixed, repairs


def _coerce_ints(node: Any, repairs: list[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "score" and isinstance(value, str) and _INT_STRING.match(value):
                repairs.append("coerced")
                value = int(float(value))
            elif key == "score" and isinstance(value, float) and value.is_integer():
                repairs.append("coerced")
                value = int(value)
            out[key] = _coerce_ints(value, repairs)
        return out
    if isinstance(node, list):
        return [_coerce_ints(v, repairs) for v in node]
    return node


def _clip(text: str, n: int = 160) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[:n] + "..."


def parse_answer(raw: str, schema: type[T]) -> Parsed[T]:
    """Parse and validate ``raw`` against ``schema``; raise AnswerError with a reason code."""
    text, repairs = extract_json(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswerError("invalid_json", f"{exc.msg} at col {exc.colno}: {_clip(text)}") from None
    if not isinstance(data, dict):
        raise AnswerError("invalid_json", f"top level is {type(data).__name__}")
    data = _coerce_ints(data, repairs)
    try:
        value = schema.model_validate(data)
    except ValidationError as exc:
        raise AnswerError(_schema_reason(exc), _first_error(exc)) from None
    return Parsed(value, bool(repairs), tuple(dict.fromkeys(repairs)))


def _schema_reason(exc: ValidationError) -> str:
    kinds = {e["type"] for e in exc.errors()}
    if kinds & {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return "out_of_range"
    if "missing" in kinds:
        return "missing_field"
    return "wrong_type"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
