"""Secure local services without processes: certificates, broker config, ACL sets, exports."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from mira.services.common import ServiceError
from mira.services.kafka_acl import producer_acls, scorer_acls
from mira.services.kafka_secure import AUTHORIZER, SecureKafkaBroker
from mira.services.secure_local import kafka_exports, triton_exports
from mira.services.tls import make_pki
from mira.services.triton import TritonServer, TritonTls


def test_pki_files_names_and_permissions(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, ["broker", "scorer"])
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    for name in ("broker", "scorer"):
        ident = pki[name]
        cert = x509.load_pem_x509_certificate(ident.cert.read_bytes())
        cert.verify_directly_issued_by(ca)
        assert cert.subject.rfc4514_string() == f"CN={name}"
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        for private in (ident.key, ident.bundle):
            assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in ident.bundle.read_bytes()
    assert not list(tmp_path.glob("ca.key")), "the CA key never touches the disk"


def test_secure_broker_is_deny_by_default_without_plaintext(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "tls", ["broker", "admin"])
    props = SecureKafkaBroker(tmp_path, pki=pki)._properties()
    assert "PLAINTEXT" not in props["listeners"] + props["listener.security.protocol.map"]
    assert props["authorizer.class.name"] == AUTHORIZER
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:broker;User:admin"
    assert props["listener.name.ssl.ssl.client.auth"] == "required"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert "CONTROLLER" not in props["advertised.listeners"]
    with pytest.raises(ServiceError, match="admin"):
        SecureKafkaBroker(tmp_path, pki=make_pki(tmp_path / "x", ["broker"]))


def _grants(acls: list[Any]) -> set[tuple[str, str, str, str]]:
    return {
        (
            a.operation.name,
            a.resource_pattern.resource_type.name,
            a.resource_pattern.resource_name,
            a.resource_pattern.pattern_type.name,
        )
        for a in acls
    }


def test_scorer_and_producer_acls_are_least_privilege() -> None:
    acls = scorer_acls(
        "User:s",
        input_topic="in",
        output_topics=["ok", "dlq"],
        group_id="g",
        transactional_id="g-",
        txid_prefixed=True,
    )
    assert {a.principal for a in acls} == {"User:s"}
    assert _grants(acls) == {
        ("READ", "TOPIC", "in", "LITERAL"),
        ("READ", "GROUP", "g", "LITERAL"),
        ("WRITE", "TRANSACTIONAL_ID", "g-", "PREFIXED"),
        ("WRITE", "TOPIC", "ok", "LITERAL"),
        ("WRITE", "TOPIC", "dlq", "LITERAL"),
    }
    assert _grants(producer_acls("User:p", "in")) == {("WRITE", "TOPIC", "in", "LITERAL")}


def test_exports_name_the_password_file_never_a_password() -> None:
    assert kafka_exports({"bootstrap": "h:1"}) == ["export MIRA_KAFKA_BOOTSTRAP=h:1"]
    ends = {
        "bootstrap": "h:1",
        "protocol": "SASL_SSL",
        "ssl_bootstrap": "h:2",
        "cafile": "/ca",
        "user": "mira",
        "password_file": "/p",
        "certfile": "/c",
        "keyfile": "/k",
    }
    text = "\n".join(kafka_exports(ends))
    assert "MIRA_KAFKA_SASL_PASSWORD_FILE=/p" in text and "SASL_PASSWORD=" not in text
    assert "MIRA_KAFKA_SECURITY_PROTOCOL=SASL_SSL" in text
    triton = {"grpc": "h:3", "http": "h:4", "grpc_tls": "mutual", "ssl_root_cert": "/t/ca.pem"}
    assert "export MIRA_TRITON_SSL_CERT=/t/mira.pem" in triton_exports(triton)


def test_triton_tls_flags(tmp_path: Path) -> None:
    tls = TritonTls(Path("/c"), Path("/k"), Path("/ca"), mutual=True)
    server = TritonServer(tmp_path, tmp_path / "w", tls=tls)
    server._home = tmp_path
    cmd = server._command()
    assert {
        "--grpc-use-ssl=true",
        "--grpc-server-cert=/c",
        "--grpc-server-key=/k",
        "--grpc-root-cert=/ca",
        "--grpc-use-ssl-mutual=true",
    } <= set(cmd)
    assert server.endpoints()["grpc_tls"] == "mutual"
    plain = TritonServer(tmp_path, tmp_path / "p")
    plain._home = tmp_path
    assert not any("ssl" in arg for arg in plain._command())
