"""Triton python-backend model: a MiniLM-shaped student in torch (bf16 on a GPU, fp32 on CPU).

Copied as ``<repo>/mira_gpu/1/model.py`` by bench/gpu/triton_vs_torch.py, next to config.json
(BertConfig) and weights.safetensors (encoder + head + aggregation weights).  The requests of
one ``execute`` are padded to one length and run as one forward pass; tensors move through
DLPack (numpy 2 in the stub's environment returns empty tensors otherwise, SERVICES.md).
"""

import json
import os

import torch
import triton_python_backend_utils as pb_utils
from safetensors.torch import load_file
from transformers import BertConfig, BertModel


def _cancelled(request):
    check = getattr(request, "is_cancelled", None)
    return bool(check()) if callable(check) else False


class TritonPythonModel:
    def initialize(self, args):
        folder = os.path.join(args["model_repository"], args["model_version"])
        gpu = args.get("model_instance_kind") == "GPU" and torch.cuda.is_available()
        self.device = f"cuda:{args.get('model_instance_device_id', '0')}" if gpu else "cpu"
        self.dtype = torch.bfloat16 if gpu else torch.float32
        config = BertConfig.from_json_file(os.path.join(folder, "config.json"))
        state = load_file(os.path.join(folder, "weights.safetensors"))
        self.bert = BertModel(config, add_pooling_layer=False)
        self.bert.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("bert.")})
        self.head = torch.nn.Linear(config.hidden_size, state["head.weight"].shape[0])
        self.head.load_state_dict({"weight": state["head.weight"], "bias": state["head.bias"]})
        self.agg = state["agg"]
        for module in (self.bert, self.head):
            module.to(self.device, self.dtype).eval()
        self.agg = self.agg.to(self.device, torch.float32)
        params = json.loads(args["model_config"]).get("parameters", {})
        self.meta = {k: v.get("string_value") for k, v in params.items()}

    def _tensor(self, request, name):
        return torch.from_dlpack(pb_utils.get_input_tensor_by_name(request, name).to_dlpack())

    def execute(self, requests):
        live = [r for r in requests if not _cancelled(r)]
        out = {
            id(r): pb_utils.InferenceResponse(
                output_tensors=[], error=pb_utils.TritonError("cancelled by the client")
            )
            for r in requests
            if _cancelled(r)
        }
        if live:
            ids = [self._tensor(r, "input_ids") for r in live]
            masks = [self._tensor(r, "attention_mask") for r in live]
            length = max(t.shape[1] for t in ids)
            pad = [torch.nn.functional.pad(t, (0, length - t.shape[1])) for t in ids]
            padm = [torch.nn.functional.pad(t, (0, length - t.shape[1])) for t in masks]
            x = torch.cat(pad).to(self.device, non_blocking=True)
            m = torch.cat(padm).to(self.device, non_blocking=True)
            with torch.inference_mode():
                hidden = self.bert(input_ids=x, attention_mask=m).last_hidden_state
                w = m.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * w).sum(1) / w.sum(1).clamp(min=1)
                anchors = self.head(pooled).float()
                score = (anchors * self.agg).sum(-1, keepdim=True)
            anchors, score = anchors.cpu(), score.cpu()
            start = 0
            for r, t in zip(live, ids, strict=True):
                n = t.shape[0]
                out[id(r)] = pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor.from_dlpack(
                            "anchors", anchors[start : start + n].contiguous()
                        ),
                        pb_utils.Tensor.from_dlpack("score", score[start : start + n].contiguous()),
                    ]
                )
                start += n
        return [out[id(r)] for r in requests]
