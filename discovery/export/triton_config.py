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


def model_config(
    model: str,
    n_anchors: int,
    flavour: Flavour,
    *,
    max_batch_size: int = MAX_BATCH_SIZE,
    instances: int = 1,
    max_queue_delay_us: int = 2000,
    queue_timeout_us: int = 10_000_000,
    execution_env: str | None = None,
) -> Any:
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
    kind = pb.ModelInstanceGroup.KIND_CPU if flavour == "python" else pb.ModelInstanceGroup.KIND_GPU
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


def with_rollout(text: str, keep_versions: int, warmup_length: int | None) -> str:
    """``text`` (a config.pbtxt) with the fields a rollout across replicas relies on, set on
    Triton's ``ModelConfig`` protobuf:

    - ``version_policy { latest { num_versions: keep_versions } }``: loading version N+1 keeps
      version N loaded, so requests that still name N succeed while scorers switch;
    - ``model_warmup`` (unless ``warmup_length`` is None): a batch of 1 and one of
      ``max_batch_size`` rows of ``warmup_length`` zero tokens run before a version reports
      ready, so the first real requests do not pay for lazy initialisation (CUDA kernels, ORT
      arenas).  Zero ids and mask are valid for every student (mean pooling clamps the mask).
    """
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2 as pb

    cfg = parse_config(text)
    cfg.version_policy.latest.num_versions = keep_versions
    del cfg.model_warmup[:]
    if warmup_length is not None:
        for batch in sorted({1, max(1, cfg.max_batch_size)}):
            warm = cfg.model_warmup.add(
                name=f"zeros_{batch}x{warmup_length}", batch_size=batch, count=1
            )
            for name in ("input_ids", "attention_mask"):
                warm.inputs[name].data_type = pb.TYPE_INT64
                warm.inputs[name].dims.append(warmup_length)
                warm.inputs[name].zero_data = True
    return str(text_format.MessageToString(cfg))
