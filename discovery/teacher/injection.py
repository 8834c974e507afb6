"""Documents are data, not instructions: fence them inside the teacher's prompt and flag the ones
that try to talk to the teacher.

``fence`` escapes what could end the ``<document>`` block early or open a chat turn (a literal
``</document>``, a chat template's special-token markers such as ``<|im_start|>``), so the text
cannot leave its delimiters whatever it holds; it changes only the prompt, never the annotation's
text.  ``flags`` names, from a fixed set, the injection patterns a text contains; the annotation
record carries them so that a reviewer (or a filter on the annotations) can see which labels came
from documents that addressed the teacher.  Detection is a heuristic for review, not a defence:
the defence is the fence, the schema-checked answer and the student trained on many documents.
"""

from __future__ import annotations

import re
from typing import get_args

from mira.contracts import InjectionFlag

FLAGS: tuple[InjectionFlag, ...] = get_args(InjectionFlag)

_I = re.IGNORECASE
_PATTERNS: dict[InjectionFlag, re.Pattern[str]] = {
    # "ignore (all) previous instructions", "disregard the above", "forget your rules"
    "override": re.compile(
        r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}?"
        r"\b(previous|prior|above|earlier|preceding|all|your|the)\b[^.\n]{0,20}?"
        r"\b(instructions?|prompts?|rules|directions|guidelines|context)\b"
        r"|\bnew instructions?\s*:",
        _I,
    ),
    # "score this 5", "rate this document 10/10", "give it the highest score"
    "score_directive": re.compile(
        r"\b(score|rate|grade|mark)\b[^.\n]{0,40}?\b(5|five|10|ten)\b(?![-.,]\w)"
        r"|\b(give|assign|score|rate)\b[^.\n]{0,40}?"
        r"\b(maximum|max|highest|top|perfect|full)\s+(score|rating|marks?|points)\b",
        _I,
    ),
    # chat-template markers and role prefixes at the start of a line
    "role_marker": re.compile(
        r"<\|[a-z_]+\|>|\[/?INST\]|<</?SYS>>|^\s*(system|assistant)\s*:", _I | re.MULTILINE
    ),
    "delimiter": re.compile(r"</?\s*document\s*>", _I),
}

_FENCE = re.compile(r"<(/?\s*document\s*>|\|)", _I)


def flags(text: str) -> list[InjectionFlag]:
    """The injection patterns found in ``text``, in FLAGS order (empty for ordinary text)."""
    return [name for name in FLAGS if _PATTERNS[name].search(text)]


def fence(text: str) -> str:
    """``text`` with delimiter look-alikes and special-token markers escaped (``<`` -> ``&lt;``)."""
    return _FENCE.sub(lambda m: "&lt;" + m.group(1), text)
