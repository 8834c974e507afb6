"""Generate (and parse back) Triton ``config.pbtxt`` for one student, in two flavours.

- ``python``: python backend running onnxruntime on CPU (served by the pytriton tritonserver
  wheel, which has no onnxruntime backend); ``model.py`` sits next to ``model.onnx``.
- ``onnxruntime``: the native onnxruntime backend with GPU instance groups (NGC image).
"""

from __future__ import annotations

from typing import Any, Literal

Flavour = Literal["python", "onnxruntime"]
FLAVOURS: tuple[Flavour, ...] = ("python", "onnxruntime")
MAX_BATCH_SIZE = 128


def config_pbtxt(model: str, n_anchors: int, flavour: Flavour, *,
                 max_batch_size: int = MAX_BATCH_SIZE, instances: int = 1,
                 max_queue_delay_us: int = 2000, execution_env: str | None = None) -> str:
    """The config.pbtxt text of model ``mira_<group>`` with ``n_anchors`` outputs."""
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}")
    head = [f'name: "{model}"']
    if flavour == "python":
        head.append('backend: "python"')
    else:
        head += ['platform: "onnxruntime_onnx"', 'backend: "onnxruntime"',
                 'default_model_filename: "model.onnx"']
    kind = "KIND_CPU" if flavour == "python" else "KIND_GPU"
    lines = [
        *head,
        f"max_batch_size: {max_batch_size}",
        _io("input", "input_ids", "TYPE_INT64", [-1]),
        _io("input", "attention_mask", "TYPE_INT64", [-1]),
        _io("output", "anchors", "TYPE_FP32", [n_anchors]),
        _io("output", "score", "TYPE_FP32", [1]),
        "dynamic_batching {",
        f"  preferred_batch_size: [ {min(32, max_batch_size)}, {max_batch_size} ]",
        f"  max_queue_delay_microseconds: {max_queue_delay_us}",
        "}",
        f"instance_group [ {{ count: {instances} kind: {kind} }} ]",
    ]
    if execution_env:
        lines.append('parameters { key: "EXECUTION_ENV_PATH" '
                     f'value: {{ string_value: "{execution_env}" }} }}')
    return "\n".join(lines) + "\n"


def _io(kind: str, name: str, dtype: str, dims: list[int]) -> str:
    return (f'{kind} [ {{ name: "{name}" data_type: {dtype} '
            f"dims: [ {', '.join(str(d) for d in dims)} ] }} ]")


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
            warm = cfg.model_warmup.add(name=f"zeros_{batch}x{warmup_length}",
                                        batch_size=batch, count=1)
            for name in ("input_ids", "attention_mask"):
                warm.inputs[name].data_type = pb.TYPE_INT64
                warm.inputs[name].dims.append(warmup_length)
                warm.inputs[name].zero_data = True
    return str(text_format.MessageToString(cfg))
