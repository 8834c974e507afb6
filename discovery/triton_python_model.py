"""Triton python-backend model that runs a student's ``model.onnx`` with onnxruntime.

Copied verbatim as ``<repo>/mira_<group>/<version>/model.py`` by the exporter.  It runs inside
Triton's own Python environment, so it imports only numpy, onnxruntime, json and
triton_python_backend_utils.  Keep numpy<2 there (numpy 2 makes the stub return empty tensors).
"""

import json

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


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
            pb_utils.Tensor("anchors", np.ascontiguousarray(anchors, dtype=np.float32)),
            pb_utils.Tensor("score", np.ascontiguousarray(score, dtype=np.float32).reshape(-1, 1)),
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
