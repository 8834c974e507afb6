"""Batch tokenization for the students: truncate, pad to the longest in the batch.

The fast tokenizer encodes the whole text before it truncates, so callers cut long texts first
(``pre_cut``: SERVICES.md measured 4,096 characters still filling 512 tokens for 94% of files);
``max_chars`` is the hard ceiling of that cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mira.contracts import RepositoryManifest


class BatchTokenizer:
    """Turn texts into int64 ``input_ids`` / ``attention_mask`` arrays of shape [N, L]."""

    def __init__(self, tokenizer_json: Path, max_length: int, max_chars: int) -> None:
        from tokenizers import Tokenizer

        if max_length < 2:
            raise ValueError(f"max_length must be >= 2, got {max_length}")
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        self.path = Path(tokenizer_json)
        self.max_length = max_length
        self.max_chars = max_chars
        tok = Tokenizer.from_file(str(self.path))
        tok.enable_truncation(max_length=max_length)
        pad_id = tok.token_to_id("[PAD]")
        tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        self._tok = tok
        self._full = Tokenizer.from_file(str(self.path))  # counts whole texts
        self._full.no_truncation()
        self._full.no_padding()
        # encode_batch_fast skips character offsets (which nothing here uses): same ids, faster
        self._encode = getattr(tok, "encode_batch_fast", tok.encode_batch)

    @classmethod
    def from_manifest(cls, repo_dir: Path, manifest: RepositoryManifest) -> BatchTokenizer:
        """The tokenizer a model repository names (``manifest.tokenizer`` is relative to it)."""
        return cls(Path(repo_dir) / manifest.tokenizer, manifest.max_length, manifest.max_chars)

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch (each text cut to ``max_chars`` first); empty gives two [0, 0] arrays."""
        if not texts:
            empty = np.zeros((0, 0), dtype=np.int64)
            return empty, empty.copy()
        encs = self._encode([t[: self.max_chars] for t in texts])
        ids = np.asarray([e.ids for e in encs], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
        return ids, mask

    def count_full(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each whole text (no cut, no truncation; special tokens excluded)."""
        encs = self._full.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encs]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text as the student sees it (after cut and truncation)."""
        _, mask = self.encode(texts)
        return [int(x) for x in mask.sum(axis=1)] if len(texts) else []


def pre_cut(
    text: str, chars_per_token: float | None, max_length: int, max_chars: int, margin: float
) -> str:
    """The text cut just past what fills ``max_length`` tokens (``margin`` x the measured ratio).

    Without a measured ratio the cut is ``max_chars``.  Cutting before tokenizing saves encoding
    text the student never sees and keeps big texts from crossing process boundaries.
    """
    limit = max_chars
    if chars_per_token:
        limit = min(max_chars, math.ceil(max_length * chars_per_token * margin))
    return text if len(text) <= limit else text[:limit]
