"""Test model: anchors = [mean of kept ids, kept tokens], score = kept tokens (numpy only)."""

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
            mask = pb_utils.get_input_tensor_by_name(request, "attention_mask").as_numpy()
            kept = mask.sum(axis=1).astype(np.float32)
            mean = (ids * mask).sum(axis=1) / np.maximum(kept, 1.0)
            anchors = np.stack([mean.astype(np.float32), kept], axis=1)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("anchors", anchors.astype(np.float32)),
                        pb_utils.Tensor("score", kept.reshape(-1, 1)),
                    ]
                )
            )
        return responses
