"""``mira services up --secure``: local Kafka with SASL_SSL + ACLs and Triton with mutual TLS.

One throwaway CA signs the broker's, the admin's, Triton's and the local user's certificates.
The local user ``mira`` gets a random SCRAM-SHA-512 password, written to a 0600 file that only
its path is ever printed of, and the producer + scorer ACLs for the configured topics, group and
transactional-id prefix (``<group_id>``). What `status` prints are the client settings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from mira.services.kafka_acl import grant, producer_acls, scorer_acls
from mira.services.kafka_secure import SCRAM, SecureKafkaBroker
from mira.services.tls import Pki, make_pki
from mira.services.triton import TritonTls

LOCAL_USER = "mira"


@dataclass(frozen=True)
class LocalAccess:
    """What the local user gets: topics, group, partitions (from settings)."""

    input_topic: str
    output_topics: tuple[str, ...]
    group_id: str
    partitions: int


def local_pki(root: Path) -> Pki:
    return make_pki(root / "tls", ["broker", "admin", "triton", LOCAL_USER])


def triton_tls(pki: Pki) -> TritonTls:
    ident = pki["triton"]
    return TritonTls(cert=ident.cert, key=ident.key, root_cert=pki.ca, mutual=True)


def provision(broker: SecureKafkaBroker, access: LocalAccess) -> dict[str, str]:
    """Create the local user, its topics and ACLs; the client settings (no secret) to record."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    secret_file = broker.workdir / "secrets" / f"{LOCAL_USER}.password"
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password)
    broker.add_users({LOCAL_USER: password})
    principal = f"User:{LOCAL_USER}"
    with broker.admin_client() as admin:
        for topic in (access.input_topic, *access.output_topics):
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(topic, access.partitions, 1)])
        grant(
            admin,
            producer_acls(principal, access.input_topic)
            + scorer_acls(
                principal,
                input_topic=access.input_topic,
                output_topics=access.output_topics,
                group_id=access.group_id,
                transactional_id=access.group_id,
                txid_prefixed=True,
            ),
        )
    assert broker.pki is not None
    ident = broker.pki[LOCAL_USER]
    return {
        "user": LOCAL_USER,
        "password_file": str(secret_file),
        "certfile": str(ident.cert),
        "keyfile": str(ident.key),
    }


def kafka_exports(ends: dict[str, str]) -> list[str]:
    """Shell lines that point mira at a secure broker recorded by ``up --secure``."""
    if ends.get("protocol") != "SASL_SSL":
        return [f"export MIRA_KAFKA_BOOTSTRAP={ends['bootstrap']}"]
    lines = [
        f"export MIRA_KAFKA_BOOTSTRAP={ends['bootstrap']}",
        "export MIRA_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        f"export MIRA_KAFKA_SASL_MECHANISM={SCRAM}",
        f"export MIRA_KAFKA_SSL_CAFILE={ends['cafile']}",
    ]
    if "user" in ends:
        lines += [
            f"export MIRA_KAFKA_SASL_USERNAME={ends['user']}",
            f"export MIRA_KAFKA_SASL_PASSWORD_FILE={ends['password_file']}",
            f"# mutual TLS instead: MIRA_KAFKA_BOOTSTRAP={ends['ssl_bootstrap']} "
            f"MIRA_KAFKA_SECURITY_PROTOCOL=SSL MIRA_KAFKA_SSL_CAFILE={ends['cafile']} "
            f"MIRA_KAFKA_SSL_CERTFILE={ends['certfile']} "
            f"MIRA_KAFKA_SSL_KEYFILE={ends['keyfile']}",
        ]
    return lines


def triton_exports(ends: dict[str, str]) -> list[str]:
    lines = [
        f"export MIRA_TRITON_GRPC_URL={ends['grpc']}",
        f"export MIRA_TRITON_HTTP_URL={ends['http']}",
    ]
    if "grpc_tls" not in ends:
        return lines
    lines += [
        "export MIRA_TRITON_SSL=true",
        f"export MIRA_TRITON_SSL_ROOT_CERT={ends['ssl_root_cert']}",
    ]
    if ends["grpc_tls"] == "mutual":
        pki_dir = Path(ends["ssl_root_cert"]).parent
        lines += [
            f"export MIRA_TRITON_SSL_CERT={pki_dir / (LOCAL_USER + '.pem')}",
            f"export MIRA_TRITON_SSL_KEY={pki_dir / (LOCAL_USER + '.key')}",
        ]
    return lines
