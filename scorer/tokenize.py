"""Batch tokenization for the students: pre-cut text, truncate, pad to the longest in the batch.

The fast tokenizer encodes the whole text before it truncates, so long documents are first cut to
``max_chars`` characters (SERVICES.md: 4,096 characters still fill 512 tokens for 94% of files).
"""

from __future__ import annotations

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

    @classmethod
    def from_manifest(cls, repo_dir: Path, manifest: RepositoryManifest) -> BatchTokenizer:
        """The tokenizer a model repository names (``manifest.tokenizer`` is relative to it)."""
        return cls(Path(repo_dir) / manifest.tokenizer, manifest.max_length, manifest.max_chars)

    def cut(self, text: str) -> str:
        """The text as the student sees it before tokenization (first ``max_chars`` characters)."""
        return text[: self.max_chars]

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch; an empty batch gives two [0, 0] arrays."""
        if not texts:
            empty = np.zeros((0, 0), dtype=np.int64)
            return empty, empty.copy()
        encs = self._tok.encode_batch([self.cut(t) for t in texts])
        ids = np.asarray([e.ids for e in encs], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
        return ids, mask

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text as the student sees it (after cut and truncation)."""
        _, mask = self.encode(texts)
        return [int(x) for x in mask.sum(axis=1)] if len(texts) else []


CHARS_PER_TOKEN = 4


def approx_tokens(text: str) -> int:
    """Training-token estimate of a whole document (4 characters per token, at least 1).

    Budgets count the tokens a document costs in mid-training, i.e. of the whole text, not of the
    student's truncated view.  Counting exactly would need the target LLM's tokenizer over the
    whole text (the slow path); this estimate is cheap, deterministic and the same in calibration
    (``mira export``) and in ``mira filter`` summaries.
    """
    return max(1, -(-len(text) // CHARS_PER_TOKEN))
