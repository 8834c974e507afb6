"""Shared prompt prefixes for the local backend: compute their key/value cache once.

The prompts of one stage share their system message and instructions (and, when annotating, the
group's anchor list); only the document at the end differs.  ``PrefixCache`` runs the model once
over such a prefix and hands out copies, so a prompt only pays for its document (``decode.py``
continues each row from a copy; a test checks the answers equal those of the whole prompt).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MIN_PREFIX_CHARS = 64


def common_prefix(texts: Sequence[str]) -> str:
    """The longest common prefix of ``texts``, cut after its last newline ("" if too short)."""
    if len(texts) < 2:
        return ""
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    cut = first.rfind("\n", 0, n) + 1
    return first[:cut] if cut >= MIN_PREFIX_CHARS else ""


class PrefixCache:
    """Key/value caches of the most recent prefixes (token ids + model cache per prefix)."""

    def __init__(self, model: Any, tokenizer: Any, device: str, size: int = 2):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.size = size
        self._items: OrderedDict[str, tuple[list[int], Any]] = OrderedDict()
        self.hits = 0

    def find(self, texts: Sequence[str]) -> str:
        """The longest cached prefix of every text, else their common prefix."""
        known = [p for p in self._items if all(t.startswith(p) for t in texts)]
        if known:
            return max(known, key=len)
        return common_prefix(texts)

    def get(self, prefix: str) -> tuple[list[int], Any]:
        """Token ids of ``prefix`` and a private copy of its cache."""
        import torch

        if prefix in self._items:
            self._items.move_to_end(prefix)
            self.hits += 1
        else:
            ids = list(self.tokenizer(prefix, add_special_tokens=False)["input_ids"])
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([ids], device=self.device), use_cache=True)
            self._items[prefix] = (ids, out["cache"])
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        ids, cache = self._items[prefix]
        return ids, copy.deepcopy(cache)
