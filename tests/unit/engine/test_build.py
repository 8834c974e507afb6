"""Building a scoring backend from settings: gRPC keyword arguments of one Triton client."""

from __future__ import annotations

from mira.engine.build import grpc_kwargs
from mira.settings import TritonSettings


def test_tls_verifies_a_resolved_address_against_its_host_name() -> None:
    plain = TritonSettings()
    assert grpc_kwargs(plain, "mira-triton-headless") == {}
    tls = TritonSettings(ssl=True)
    assert "channel_args" not in grpc_kwargs(tls, "10.0.0.1")
    args = dict(grpc_kwargs(tls, "mira-triton-headless")["channel_args"])
    assert args["grpc.ssl_target_name_override"] == "mira-triton-headless"
    assert args["grpc.max_receive_message_length"] > 1 << 30  # tritonclient's defaults kept
