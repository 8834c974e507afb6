"""Shared setup of the security tests: a Triton with mutual TLS, per-test topics with ACLs, and
running the real ``mira`` CLI as a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mira.services.kafka_acl import producer_acls, scorer_acls
from mira.services.tls import Pki
from mira.services.triton import TritonServer, TritonTls
from tests.fixtures.security import SecureKafka
from tests.integration.streaming.conftest import (  # noqa: F401 (scorer_factory: a fixture)
    SOURCE_GROUPS,
    THRESHOLDS,
    load_all,
    scorer_env,
    scorer_factory,
)
from tests.integration.streaming.tiny_repo import build_tiny_repo


@pytest.fixture(scope="session")
def secure_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_repo(tmp_path_factory.mktemp("secure-repo"), SOURCE_GROUPS, THRESHOLDS)


@pytest.fixture(scope="session")
def tls_triton(
    secure_manifest: Path, tls_pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TritonServer]:
    """A real Triton whose gRPC endpoint requires mutual TLS (models loaded)."""
    ident = tls_pki["triton"]
    server = TritonServer(
        secure_manifest.parent,
        tmp_path_factory.mktemp("triton-tls"),
        tls=TritonTls(ident.cert, ident.key, tls_pki.ca, mutual=True),
    )
    try:
        began = time.monotonic()
        server.start()
        load_all(server, secure_manifest)
        print(f"\ntriton with mutual TLS ready, models loaded, in {time.monotonic() - began:.1f} s")
        yield server
    finally:
        server.stop()


def triton_env(server: TritonServer, pki: Pki, client: str = "scorer") -> dict[str, str]:
    """MIRA_TRITON_* variables for a scorer reaching ``server`` over (mutual) TLS."""
    out = {
        "MIRA_TRITON_GRPC_URL": server.grpc_url,
        "MIRA_TRITON_SSL": "true",
        "MIRA_TRITON_SSL_ROOT_CERT": str(pki.ca),
    }
    if server.tls is not None and server.tls.mutual:
        out |= {
            "MIRA_TRITON_SSL_CERT": str(pki[client].cert),
            "MIRA_TRITON_SSL_KEY": str(pki[client].key),
        }
    return out


def secure_scorer_env(
    kafka: SecureKafka,
    topics: dict[str, str],
    manifest: Path,
    triton: TritonServer,
    pki: Pki,
    user: str = "scorer",
    delivery: str = "exactly-once",
) -> dict[str, str]:
    """A scorer's environment as Kafka principal ``user`` (SASL_SSL) with Triton over TLS."""
    return {
        **scorer_env(kafka.bootstrap, topics, manifest, triton.grpc_url, delivery),
        "MIRA_SCORER_TRANSACTIONAL_ID": topics["txid"],
        **kafka.env(user),
        **triton_env(triton, pki),
    }


@pytest.fixture
def secure_topics(secure_kafka: SecureKafka) -> dict[str, str]:
    """Fresh topics; ACLs: producer writes docs, scorer reads docs (group) and writes outputs."""
    run = uuid.uuid4().hex[:8]
    names = {k: f"s{run}.{k}" for k in ("docs", "accepted", "rejected", "dlq")}
    secure_kafka.create_topics(names.values(), partitions=3)
    names["group"] = f"g{run}"
    names["txid"] = f"g{run}-tx"
    secure_kafka.grant(producer_acls("User:producer", names["docs"]))
    secure_kafka.grant(
        scorer_acls(
            "User:scorer",
            input_topic=names["docs"],
            output_topics=[names["accepted"], names["rejected"], names["dlq"]],
            group_id=names["group"],
            transactional_id=names["txid"],
        )
    )
    return names


@dataclass
class Run:
    code: int
    out: str
    seconds: float


def run_mira(args: list[str], env: dict[str, str], timeout_s: float = 120) -> Run:
    """``python -m mira.cli ARGS`` with ``env`` added; stdout and stderr together."""
    full = {**os.environ, **env, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mira.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - began)
