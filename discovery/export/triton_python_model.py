"""Triton python-backend model that runs a student's ``model.onnx`` with onnxruntime.

Copied verbatim as ``<repo>/mira_<group>/<version>/model.py`` by the exporter.  It runs inside
Triton's own Python environment, so it imports only numpy, onnxruntime, json and
triton_python_backend_utils.  Keep numpy<2 there: numpy 2 makes the stub return empty tensors
from ``pb_utils.Tensor``; the DLPack path below is for such environments (untested here).
"""

import json

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

NUMPY_2 = int(np.__version__.split(".")[0]) >= 2


def _tensor(name: str, array: np.ndarray) -> object:
    """Output tensor; with numpy 2 the stub returns EMPTY tensors from ``pb_utils.Tensor``
    (SERVICES.md), so hand the array over through DLPack there."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    if NUMPY_2:
        return pb_utils.Tensor.from_dlpack(name, array)
    return pb_utils.Tensor(name, array)


class TritonPythonModel:
    def initialize(self, args: dict) -> None:
        config = json.loads(args["model_config"])
        params = config.get("parameters", {})
        threads = int(params.get("ORT_THREADS", {}).get("string_value", "0") or 0)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        path = args["model_repository"] + "/" + args["model_version"] + "/model.onnx"
        self.session = ort.InferenceSession(path, sess_options=opts,
                                            providers=["CPUExecutionProvider"])

    def _run(self, request: object) -> object:
        ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
        mask = pb_utils.get_input_tensor_by_name(request, "attention_mask").as_numpy()
        anchors, score = self.session.run(
            ["anchors", "score"],
            {"input_ids": np.ascontiguousarray(ids, dtype=np.int64),
             "attention_mask": np.ascontiguousarray(mask, dtype=np.int64)},
        )
        return pb_utils.InferenceResponse(output_tensors=[
            _tensor("anchors", anchors), _tensor("score", np.reshape(score, (-1, 1))),
        ])

    def execute(self, requests: list) -> list:
        responses = []
        for request in requests:
            try:
                responses.append(self._run(request))
            except Exception as exc:
                responses.append(pb_utils.InferenceResponse(
                    output_tensors=[], error=pb_utils.TritonError(f"mira student: {exc}")))
        return responses

    def finalize(self) -> None:
        self.session = None
