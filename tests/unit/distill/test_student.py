"""Student mechanics on a tiny random BERT (no packaged weights): caching, saving, ONNX parity."""

from pathlib import Path

import numpy as np
import pytest
import torch

from discovery.distill.student import Student, mean_pool
from discovery.export.onnx import ParityError, export_onnx, parity


def tiny_student(weights: list[float]) -> Student:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    return Student(BertModel(cfg, add_pooling_layer=False).eval(), weights).eval()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([[2, 5, 7, 9, 3], [2, 8, 3, 0, 0]])
    return ids, (ids != 0).long()


def test_mean_pool_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).item() == 2.0


@pytest.mark.slow  # builds real data / runs the encoder: make test, not make check
@pytest.mark.parametrize("start", [0, 1, 2, 3])
def test_cached_prefix_then_tail_equals_full_forward(start: int) -> None:
    model = tiny_student([0.5, 0.5])
    ids, mask = batch()
    with torch.no_grad():
        anchors, score = model(ids, mask)
        hidden, surface = model.prefix(ids, mask, start)
        cached = model.tail(hidden, mask, start, surface)
    torch.testing.assert_close(cached, anchors, atol=1e-5, rtol=0)
    torch.testing.assert_close(score[:, 0], anchors @ torch.tensor([0.5, 0.5]))


def test_trainable_state_holds_head_and_top_layers_only() -> None:
    keys = tiny_student([1.0]).trainable_state(1)
    assert {k.split(".")[0] for k in keys} == {"head", "bert"}
    assert all(k.startswith(("head.", "bert.encoder.layer.2.")) for k in keys)
    assert all(k.startswith("head.") for k in tiny_student([1.0]).trainable_state(0))


def test_onnx_export_has_dynamic_axes_and_parity(tmp_path: Path) -> None:
    model = tiny_student([0.25, 0.75])
    ids, mask = batch()
    path = tmp_path / "m.onnx"
    attention = model.bert.config._attn_implementation
    export_onnx(model, path, ids.numpy(), mask.numpy())
    longer = np.array([[2, 5, 7, 9, 11, 13, 3]] * 3, dtype=np.int64)
    assert parity(model, path, longer, np.ones_like(longer)) < 1e-5
    assert parity(model, path, ids.numpy(), mask.numpy()) < 1e-5  # right padding
    import onnx

    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops  # onnxruntime's BERT fusions
    assert model.bert.config._attn_implementation == attention  # restored after tracing
    with pytest.raises(ParityError):
        model.head.bias.data += 1.0  # torch and ONNX now disagree
        parity(model, path, ids.numpy(), mask.numpy())
