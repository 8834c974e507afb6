"""Generate (and parse back) Triton ``config.pbtxt`` for one student, in two flavours.

The config is built as Triton's own ``ModelConfig`` protobuf (``tritonclient.grpc``) and printed
with protobuf's text format, so every field name and enum is checked by the schema Triton reads.

- ``python``: python backend running onnxruntime on CPU (served by the pytriton tritonserver
  wheel, which has no onnxruntime backend); ``model.py`` sits next to ``model.onnx``.
- ``onnxruntime``: the native onnxruntime backend with GPU instance groups (NGC image).

Every flavour gets a queue policy that REJECTs a request still queued after
``queue_timeout_us`` (overridable downwards per request): a request whose client gave up is
never computed later, so a retry never doubles the server's work.
"""

from __future__ import annotations

from typing import Any, Literal

Flavour = Literal["python", "onnxruntime"]
FLAVOURS: tuple[Flavour, ...] = ("python", "onnxruntime")
MAX_BATCH_SIZE = 128


def model_config(model: str, n_anchors: int, flavour: Flavour, *,
                 max_batch_size: int = MAX_BATCH_SIZE, instances: int = 1,
                 max_queue_delay_us: int = 2000, queue_timeout_us: int = 10_000_000,
                 execution_env: str | None = None) -> Any:
    """The ``ModelConfig`` of model ``mira_<group>`` with ``n_anchors`` outputs."""
    from tritonclient.grpc import model_config_pb2 as pb

    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}")
    cfg = pb.ModelConfig(name=model, max_batch_size=max_batch_size)
    if flavour == "python":
        cfg.backend = "python"
    else:
        cfg.platform, cfg.backend = "onnxruntime_onnx", "onnxruntime"
        cfg.default_model_filename = "model.onnx"
    for name in ("input_ids", "attention_mask"):
        cfg.input.add(name=name, data_type=pb.TYPE_INT64, dims=[-1])
    cfg.output.add(name="anchors", data_type=pb.TYPE_FP32, dims=[n_anchors])
    cfg.output.add(name="score", data_type=pb.TYPE_FP32, dims=[1])
    batching = cfg.dynamic_batching
    batching.preferred_batch_size.extend([min(32, max_batch_size), max_batch_size])
    batching.max_queue_delay_microseconds = max_queue_delay_us
    policy = batching.default_queue_policy
    policy.timeout_action = pb.ModelQueuePolicy.REJECT
    policy.default_timeout_microseconds = queue_timeout_us
    policy.allow_timeout_override = True
    kind = pb.ModelInstanceGroup.KIND_CPU if flavour == "python" else \
        pb.ModelInstanceGroup.KIND_GPU
    cfg.instance_group.add(count=instances, kind=kind)
    if execution_env:
        cfg.parameters["EXECUTION_ENV_PATH"].string_value = execution_env
    return cfg


def config_pbtxt(model: str, n_anchors: int, flavour: Flavour, **options: Any) -> str:
    """The config.pbtxt text of ``model_config(model, n_anchors, flavour, **options)``."""
    from google.protobuf import text_format

    return str(text_format.MessageToString(model_config(model, n_anchors, flavour, **options)))


def parse_config(text: str) -> Any:
    """Parse config.pbtxt into ``tritonclient.grpc.model_config_pb2.ModelConfig``."""
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(text, model_config_pb2.ModelConfig())
