"""A throwaway certificate authority for local services and tests (``cryptography``, EC P-256).

``make_pki(dir, ["broker", "admin", "scorer"])`` writes ``ca.pem`` and, per name, ``NAME.pem``
(certificate), ``NAME.key`` (unencrypted PKCS#8 key, mode 0600) and ``NAME.bundle.pem`` (key +
certificate, what Kafka's ``ssl.keystore.type=PEM`` reads). Every certificate has CN=NAME and is
valid for both server and client use on ``127.0.0.1`` and ``localhost``. The CA key stays in memory
only: nobody can issue more certificates from these files.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mira.services.common import ServiceError

HOSTS = ("127.0.0.1", "localhost")


def _eku() -> list[Any]:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    return [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


@dataclass(frozen=True)
class Identity:
    name: str
    cert: Path
    key: Path
    bundle: Path


@dataclass(frozen=True)
class Pki:
    ca: Path
    identities: dict[str, Identity]

    def __getitem__(self, name: str) -> Identity:
        return self.identities[name]


def _require_cryptography() -> None:
    if importlib.util.find_spec("cryptography") is None:
        raise ServiceError(
            "generating certificates needs the `cryptography` package (pip install 'mira[dev]')"
        )


def _write(path: Path, data: bytes, private: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def make_pki(
    directory: Path, names: Iterable[str], days: int = 30, hosts: Iterable[str] = HOSTS
) -> Pki:
    """A fresh CA and one key pair + certificate per name, written into ``directory``."""
    _require_cryptography()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mira local CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = _write(directory / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    sans = [_san(h) for h in hosts]
    out: dict[str, Identity] = {}
    for name in names:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            _builder(subject, ca_name, key.public_key(), now, days)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(_eku()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        out[name] = _write_identity(directory, name, key, cert)
    return Pki(ca=ca_path, identities=out)


def _builder(subject: Any, issuer: Any, public_key: Any, now: dt.datetime, days: int) -> Any:
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
    )


def _san(host: str) -> Any:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_identity(directory: Path, name: str, key: Any, cert: Any) -> Identity:
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = cert.public_bytes(pem)
    return Identity(
        name=name,
        cert=_write(directory / f"{name}.pem", cert_pem),
        key=_write(directory / f"{name}.key", key_pem, private=True),
        bundle=_write(directory / f"{name}.bundle.pem", key_pem + cert_pem, private=True),
    )
