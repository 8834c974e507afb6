"""A real Triton server: a python-backend model over gRPC and HTTP, restart on the same ports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

pytestmark = pytest.mark.integration

MODELS = Path(__file__).parent / "models"
IDS = np.array([[5, 7, 0], [1, 2, 3]], dtype=np.int64)
MASK = np.array([[1, 1, 0], [1, 1, 1]], dtype=np.int64)


def _infer(module, url: str) -> tuple[np.ndarray, np.ndarray]:
    client = module.InferenceServerClient(url)
    inputs = [
        module.InferInput("input_ids", list(IDS.shape), "INT64"),
        module.InferInput("attention_mask", list(MASK.shape), "INT64"),
    ]
    inputs[0].set_data_from_numpy(IDS)
    inputs[1].set_data_from_numpy(MASK)
    result = client.infer("mira_echo", inputs)
    client.close()
    return result.as_numpy("anchors"), result.as_numpy("score")


def _check(anchors: np.ndarray, score: np.ndarray) -> None:
    np.testing.assert_allclose(anchors, [[6.0, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(score, [[2.0], [3.0]])


def test_load_infer_grpc_http_and_restart(triton_factory) -> None:
    server = triton_factory(MODELS, explicit=True)
    assert not server.model_ready("mira_echo")
    server.load_model("mira_echo")
    _check(*_infer(grpcclient, server.grpc_url))
    _check(*_infer(httpclient, server.http_url))

    ports = (server.grpc_url, server.http_url, server.metrics_url)
    server.stop()
    assert not list(Path("/dev/shm").glob(f"{server.shm_prefix}*"))
    with pytest.raises(Exception):  # noqa: B017 - down means any client error
        _infer(grpcclient, server.grpc_url)
    server.start()
    assert (server.grpc_url, server.http_url, server.metrics_url) == ports
    assert server.model_ready("mira_echo")  # loaded models come back after a restart
    _check(*_infer(grpcclient, server.grpc_url))

    server.unload_model("mira_echo")
    assert not server.model_ready("mira_echo")
