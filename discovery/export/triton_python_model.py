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


def _cancelled(request: object) -> bool:
    """Triton >= 2.39 tells a backend when the client cancelled (or its deadline passed); the
    core does not drop such requests from the queue for the python backend (seen on 2.51)."""
    check = getattr(request, "is_cancelled", None)
    return bool(check()) if callable(check) else False


def _cancelled_response() -> object:
    code = getattr(pb_utils.TritonError, "CANCELLED", None)
    message = "cancelled by the client"
    error = pb_utils.TritonError(message) if code is None else pb_utils.TritonError(message, code)
    return pb_utils.InferenceResponse(output_tensors=[], error=error)


class TritonPythonModel:
    def initialize(self, args: dict) -> None:
        config = json.loads(args["model_config"])
        params = config.get("parameters", {})
        threads = int(params.get("ORT_THREADS", {}).get("string_value", "0") or 0)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        path = args["model_repository"] + "/" + args["model_version"] + "/model.onnx"
        self.session = ort.InferenceSession(
            path, sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def _run(self, request: object) -> object:
        ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
        mask = pb_utils.get_input_tensor_by_name(request, "attention_mask").as_numpy()
        anchors, score = self.session.run(
            ["anchors", "score"],
            {
                "input_ids": np.ascontiguousarray(ids, dtype=np.int64),
                "attention_mask": np.ascontiguousarray(mask, dtype=np.int64),
            },
        )
        return pb_utils.InferenceResponse(
            output_tensors=[
                _tensor("anchors", anchors),
                _tensor("score", np.reshape(score, (-1, 1))),
            ]
        )

    def execute(self, requests: list) -> list:
        responses = []
        for request in requests:
            if _cancelled(request):  # its client gave up (deadline): never compute it late
                responses.append(_cancelled_response())
                continue
            try:
                responses.append(self._run(request))
            except Exception as exc:
                responses.append(
                    pb_utils.InferenceResponse(
                        output_tensors=[], error=pb_utils.TritonError(f"mira student: {exc}")
                    )
                )
        return responses

    def finalize(self) -> None:
        self.session = None
