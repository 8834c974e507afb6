"""Compile guides against a tokenizer and enforce them during ``generate`` (a LogitsProcessor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from discovery.teacher.guide import Digit, GuideState, Lit, Text

_UNSAFE = set('"\\\n\r\t') | {chr(c) for c in range(32)} | {"\ufffd"}


class Compiler:
    """Turns guide segments into token-id form; caches the mask of string-safe tokens."""

    def __init__(self, tokenizer: Any):
        import torch

        self.tok = tokenizer
        vocab = len(tokenizer)
        special = set(tokenizer.all_special_ids)
        safe = torch.zeros(vocab, dtype=torch.bool)
        for i in range(vocab):
            if i in special:
                continue
            piece = tokenizer.decode([i])
            safe[i] = bool(piece) and not (set(piece) & _UNSAFE)
        self.safe = safe
        self._lit: dict[str, list[int]] = {}

    def ids(self, text: str) -> list[int]:
        if text not in self._lit:
            self._lit[text] = list(self.tok.encode(text, add_special_tokens=False))
        return self._lit[text]

    def compile(self, guide: Sequence[Any]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for seg in guide:
            if isinstance(seg, Lit):
                out.append(("lit", self.ids(seg.text)))
            elif isinstance(seg, Digit):
                out.append(("digit", [self.ids(str(d))[0] for d in range(seg.lo, seg.hi + 1)]))
            elif isinstance(seg, Text):
                out.append(("text", seg.max_tokens, seg.min_tokens))
        return out

    def bound(self, compiled: Sequence[tuple[Any, ...]]) -> int:
        """Most new tokens a compiled guide (minus its first literal) can take, plus EOS."""
        n = 1
        for seg in compiled[1:]:
            n += len(seg[1]) if seg[0] == "lit" else 1 if seg[0] == "digit" else seg[1]
        return n


class GuideProcessor:
    """A transformers LogitsProcessor applying one GuideState per batch row."""

    def __init__(self, states: list[GuideState], safe: Any, eos_id: int, prompt_len: int):
        self.states = states
        self.safe = safe
        self.eos_id = eos_id
        self.prompt_len = prompt_len

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if input_ids.shape[1] > self.prompt_len:
            for row, st in enumerate(self.states):
                if not st.done:
                    st.advance(int(input_ids[row, -1]))
        mask = torch.full_like(scores, float("-inf"))
        for row, st in enumerate(self.states):
            if st.done:
                mask[row, self.eos_id] = 0
                continue
            kind, arg = st.allowed()
            if kind == "ids":
                mask[row, arg] = 0
            else:
                end_id, may_end = arg
                mask[row, : self.safe.shape[0]][self.safe] = 0
                if may_end:
                    mask[row, end_id] = 0
        return scores + mask
