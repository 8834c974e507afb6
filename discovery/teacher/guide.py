"""Template-guided decoding for the local backend (what vLLM's structured outputs do, in small).

A guide is a sequence of segments: literal JSON text (forced), a digit in a range (the model picks
the most likely allowed digit), or a bounded free string (the model writes it; quotes, backslashes
and newlines are masked so the JSON stays valid).  The model produces every label itself; the
guide only removes invalid syntax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Digit:
    lo: int
    hi: int


@dataclass(frozen=True)
class Text:
    max_tokens: int
    min_tokens: int = 1


Segment = Lit | Digit | Text


def score_guide(anchors: Sequence[str], lo: int, hi: int, rationale_tokens: int
                ) -> tuple[Segment, ...]:
    segs: list[Segment] = []
    for i, name in enumerate(anchors):
        head = '{"scores": [' if i == 0 else ", "
        segs += [Lit(f'{head}{{"anchor": {json.dumps(name)}, "rationale": "'),
                 Text(rationale_tokens, 2), Lit('", "score": '), Digit(lo, hi), Lit("}")]
    segs.append(Lit("]}"))
    return _merge(segs)


def proposal_guide(n: int, name_tokens: int, text_tokens: int) -> tuple[Segment, ...]:
    segs: list[Segment] = []
    for i in range(n):
        head = '{"dimensions": [' if i == 0 else ", "
        segs += [Lit(f'{head}{{"name": "'), Text(name_tokens, 2), Lit('", "description": "'),
                 Text(text_tokens, 3), Lit('", "high": "'), Text(text_tokens, 2),
                 Lit('", "low": "'), Text(text_tokens, 2), Lit('"}')]
    segs.append(Lit("]}"))
    return _merge(segs)


def _merge(segs: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for s in segs:
        if isinstance(s, Lit) and out and isinstance(out[-1], Lit):
            out[-1] = Lit(out[-1].text + s.text)
        else:
            out.append(s)
    return tuple(out)


class GuideState:
    """Per-row automaton over token ids for one guide (the first literal is the prompt prefix)."""

    def __init__(self, segs: Sequence[Any], start: int):
        self.segs = segs  # compiled: ("lit", ids) | ("digit", ids) | ("text", max, min)
        self.i = start
        self.pos = 0
        self.used = 0

    @property
    def done(self) -> bool:
        return self.i >= len(self.segs)

    def allowed(self) -> tuple[str, Any]:
        """("ids", [ids]) for a forced/restricted step or ("text", end_id, may_end)."""
        seg = self.segs[self.i]
        if seg[0] == "lit":
            return "ids", [seg[1][self.pos]]
        if seg[0] == "digit":
            return "ids", seg[1]
        end_id = self.segs[self.i + 1][1][0]
        if self.used >= seg[1]:
            return "ids", [end_id]
        return "text", (end_id, self.used >= seg[2])

    def advance(self, token: int) -> None:
        seg = self.segs[self.i]
        if seg[0] == "lit":
            self.pos += 1
            if self.pos >= len(seg[1]):
                self.i, self.pos = self.i + 1, 0
        elif seg[0] == "digit":
            self.i, self.pos = self.i + 1, 0
        elif token == self.segs[self.i + 1][1][0]:
            self.i, self.pos, self.used = self.i + 1, 1, 0
            if self.pos >= len(self.segs[self.i][1]):
                self.i, self.pos = self.i + 1, 0
        else:
            self.used += 1
