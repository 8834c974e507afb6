"""Request-specific JSON Schemas for teacher answers (every backend enforces the same one).

Each is a narrowing of a contract in ``mira/contracts.py`` (``ProposalAnswer``, ``ScoreAnswer``):
an answer valid here is valid there (checked by tests).  Narrowed: the number of dimensions, the
anchors in order (``const``), snake_case names of plain words, text fields without quotes, braces
or newlines (so a value cannot carry the answer's skeleton) and with length bounds (which bound
the tokens a local model spends).  The local backend compiles them with xgrammar, vLLM enforces
them as structured outputs, OpenAI-compatible servers get them as ``response_format``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mira.contracts import SCORE_MAX, SCORE_MIN

SCHEMA_VERSION = "mira-answer-schemas-v2"

# snake_case words that each have a vowel within their first four letters (no "hkzbzkz")
_WORD = "[b-df-hj-np-tv-xz]{0,3}[aeiouy][a-z]"
NAME_PATTERN = rf"^{_WORD}{{2,13}}(_{_WORD}{{0,13}}){{0,3}}$"
_TEXT_CHARS = r"A-Za-z ,.;:'()/-"


def text(min_chars: int, max_chars: int) -> dict[str, Any]:
    """Plain words: a letter, then ``min_chars - 1``..``max_chars - 1`` letters, spaces or light
    punctuation (no digits or symbols: a small model otherwise spends one token per character
    on runs like ``1.0.0.0``)."""
    return {
        "type": "string",
        "pattern": f"^[A-Za-z][{_TEXT_CHARS}]{{{min_chars - 1},{max_chars - 1}}}$",
    }


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def proposal_schema(n: int, text_chars: int) -> dict[str, Any]:
    """``n`` dimensions, each a readable snake_case name, a description, high and low."""
    dim = _object(
        {
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "description": text(16, max(32, 2 * text_chars)),
            "high": text(8, max(16, text_chars)),
            "low": text(8, max(16, text_chars)),
        }
    )
    dims = {"type": "array", "items": dim, "minItems": n, "maxItems": n}
    return _object({"dimensions": dims})


def score_schema(anchors: Sequence[str], rationale_chars: int) -> dict[str, Any]:
    """One item per anchor, in order: the anchor's name, a short rationale, then the score."""
    items = [
        _object(
            {
                "anchor": {"type": "string", "const": name},
                "rationale": text(2, max(4, rationale_chars)),
                "score": {"type": "integer", "minimum": SCORE_MIN, "maximum": SCORE_MAX},
            }
        )
        for name in anchors
    ]
    scores = {
        "type": "array",
        "prefixItems": items,
        "items": False,
        "minItems": len(items),
        "maxItems": len(items),
    }
    return _object({"scores": scores})
