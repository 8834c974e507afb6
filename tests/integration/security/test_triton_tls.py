"""The real tritonserver with gRPC over TLS and mutual TLS; the scorer's client settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from mira.contracts import RepositoryManifest
from mira.engine.backend import ModelRef
from mira.engine.build import deadline
from mira.engine.triton import TritonBackend
from mira.services.tls import Pki, make_pki
from mira.services.triton import TritonServer, TritonTls
from mira.settings import TritonSettings
from tests.integration.security.conftest import triton_env

pytestmark = pytest.mark.integration

MODELS = Path(__file__).resolve().parents[1] / "services" / "models"


def _ready(url: str, **tls: str | bool) -> bool:
    client = grpcclient.InferenceServerClient(url, **tls)  # type: ignore[arg-type]
    try:
        return bool(client.is_server_ready(client_timeout=3))
    except InferenceServerException:
        return False
    finally:
        client.close()


@pytest.fixture
def tls_only_triton(tls_pki: Pki, tmp_path: Path) -> Iterator[TritonServer]:
    ident = tls_pki["triton"]
    server = TritonServer(
        MODELS,
        tmp_path / "triton",
        explicit=True,
        tls=TritonTls(ident.cert, ident.key, tls_pki.ca, mutual=False),
    )
    began = time.monotonic()
    server.start()
    print(f"\ntriton with gRPC TLS (no model) ready in {time.monotonic() - began:.1f} s")
    try:
        yield server
    finally:
        server.stop()


def test_server_tls_accepts_only_clients_trusting_its_ca(
    tls_pki: Pki, tmp_path: Path, tls_only_triton: TritonServer
) -> None:
    url, ca = tls_only_triton.grpc_url, str(tls_pki.ca)
    other_ca = str(make_pki(tmp_path / "other", []).ca)
    assert _ready(url, ssl=True, root_certificates=ca)
    assert not _ready(url), "plaintext gRPC must be refused"
    assert not _ready(url, ssl=True, root_certificates=other_ca), "an unknown CA must fail"


def test_mutual_tls_needs_a_client_certificate_and_scores_with_one(
    tls_triton: TritonServer, tls_pki: Pki, secure_manifest: Path
) -> None:
    url, ca = tls_triton.grpc_url, str(tls_pki.ca)
    assert not _ready(url, ssl=True, root_certificates=ca), "no client certificate: refused"
    env = triton_env(tls_triton, tls_pki)
    settings = TritonSettings(
        ssl=True,
        ssl_root_cert=Path(env["MIRA_TRITON_SSL_ROOT_CERT"]),
        ssl_cert=Path(env["MIRA_TRITON_SSL_CERT"]),
        ssl_key=Path(env["MIRA_TRITON_SSL_KEY"]),
    )
    assert _ready(url, **settings.grpc_tls_kwargs())
    manifest = RepositoryManifest.model_validate_json(secure_manifest.read_text())
    gm = next(iter(manifest.groups.values()))

    async def score() -> tuple[np.ndarray, np.ndarray]:
        client = TritonBackend(url, 1, deadline(settings), settings.grpc_tls_kwargs())
        try:
            ids = np.full((4, 16), 7, dtype=np.int64)
            return await client.score(ModelRef(gm.model, gm.version), ids, np.ones_like(ids))
        finally:
            await client.close()

    anchors, scores = asyncio.run(score())
    scores = scores.reshape(-1)
    print(f"\nscored 4 documents with {gm.model} over mutual TLS: {scores.round(3).tolist()}")
    assert anchors.shape[0] == 4 and scores.shape == (4,)
