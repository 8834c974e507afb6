import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from discovery.export.triton_config import FLAVOURS, config_pbtxt, parse_config


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_config_round_trips_through_model_config(flavour: str) -> None:
    text = config_pbtxt(
        "mira_code",
        7,
        flavour,
        instances=2,  # type: ignore[arg-type]
        queue_timeout_us=3_000_000,
        execution_env="$$TRITON_MODEL_DIRECTORY/env.tar.gz",
    )
    cfg = parse_config(text)
    assert isinstance(cfg, model_config_pb2.ModelConfig)
    assert cfg.name == "mira_code" and cfg.max_batch_size == 128
    ins = {i.name: (i.data_type, list(i.dims)) for i in cfg.input}
    outs = {o.name: (o.data_type, list(o.dims)) for o in cfg.output}
    assert ins == {
        "input_ids": (model_config_pb2.TYPE_INT64, [-1]),
        "attention_mask": (model_config_pb2.TYPE_INT64, [-1]),
    }
    assert outs == {
        "anchors": (model_config_pb2.TYPE_FP32, [7]),
        "score": (model_config_pb2.TYPE_FP32, [1]),
    }
    assert cfg.HasField("dynamic_batching")
    assert list(cfg.dynamic_batching.preferred_batch_size) == [32, 128]
    policy = cfg.dynamic_batching.default_queue_policy  # never compute what a client gave up
    assert policy.timeout_action == model_config_pb2.ModelQueuePolicy.REJECT
    assert policy.default_timeout_microseconds == 3_000_000 and policy.allow_timeout_override
    group = cfg.instance_group[0]
    kinds = model_config_pb2.ModelInstanceGroup
    assert group.count == 2
    if flavour == "python":
        assert cfg.backend == "python" and group.kind == kinds.KIND_CPU
    else:
        assert cfg.platform == "onnxruntime_onnx" and cfg.backend == "onnxruntime"
        assert group.kind == kinds.KIND_GPU
    assert cfg.parameters["EXECUTION_ENV_PATH"].string_value.endswith("env.tar.gz")
    # generate -> parse -> print -> parse gives equal messages
    again = text_format.Parse(text_format.MessageToString(cfg), model_config_pb2.ModelConfig())
    assert again == cfg


def test_unknown_flavour_is_refused() -> None:
    with pytest.raises(ValueError):
        config_pbtxt("mira_x", 1, "tensorrt")  # type: ignore[arg-type]
