"""A real Kafka broker with TLS, SCRAM-SHA-512 and the standard authorizer (deny by default).

Listeners (all on 127.0.0.1, each with its own port):

- ``SASL_SSL`` (``.bootstrap``): TLS + SCRAM-SHA-512 users; principal ``User:<username>``.
- ``SSL`` (``.ssl_bootstrap``): mutual TLS; principal ``User:<certificate CN>``. The broker talks
  to itself here (inter-broker listener) as ``User:broker``.
- ``CONTROLLER``: mutual TLS too (KRaft cannot use SCRAM for the controller).

There is no PLAINTEXT listener. ``org.apache.kafka.metadata.authorizer.StandardAuthorizer`` with
``allow.everyone.if.no.acl.found=false``: only ``User:broker`` and the admin principal are super
users; every other principal needs ACLs (see :mod:`mira.services.kafka_acl`). The certificates
come from a throwaway CA made at prepare time (:func:`mira.services.tls.make_pki`). SCRAM users are
added through the admin API (:meth:`add_user`), so no password ever appears on a command line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mira.services.common import ServiceError, free_port
from mira.services.kafka import _LOG4J2, KafkaBroker
from mira.services.tls import Pki, make_pki

AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
SCRAM = "SCRAM-SHA-512"
_CN_RULE = "RULE:^CN=([^,]+).*$/$1/,DEFAULT"
# failed authentications are logged (INFO) like the authorizer's denials (kafka.authorizer.logger)
_AUDIT_LOG4J = (
    _LOG4J2 + "logger.auth.name = org.apache.kafka.common.network.Selector\n"
    "logger.auth.level = INFO\n"
)


class SecureKafkaBroker(KafkaBroker):
    """One KRaft node with SASL_SSL + mTLS listeners and ACLs; ``.bootstrap`` is SASL_SSL."""

    log4j = _AUDIT_LOG4J

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        admin: str = "admin",
        identities: tuple[str, ...] = (),
        pki: Pki | None = None,
        **kwargs: Any,
    ):
        """``identities``: more certificate names (mTLS clients) for a PKI made at prepare time;
        ``pki``: use this one instead (it must hold ``broker`` and ``admin``)."""
        super().__init__(workdir, **kwargs)
        self.ssl_port = free_port()
        self.admin = admin
        self.identities = tuple(dict.fromkeys(("broker", admin, *identities)))
        self.pki = pki
        if pki is not None and not {"broker", admin} <= set(pki.identities):
            raise ServiceError(f"the PKI given lacks a 'broker' or '{admin}' certificate")

    def _pick_ports(self) -> None:
        super()._pick_ports()
        self.ssl_port = free_port()

    @property
    def ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ssl_port}"

    def endpoints(self) -> dict[str, str]:
        out = {
            "bootstrap": self.bootstrap,
            "protocol": "SASL_SSL",
            "ssl_bootstrap": self.ssl_bootstrap,
        }
        if self.pki is not None:
            out["cafile"] = str(self.pki.ca)
        return out

    def _prepare(self) -> None:
        if self.pki is None:
            self.pki = make_pki(self.workdir / "tls", self.identities)
        super()._prepare()

    def _properties(self) -> dict[str, str]:
        props = super()._properties()
        props.update(self._security_properties())
        props.update(self.extra_config)
        return props

    def _security_properties(self) -> dict[str, str]:
        pki = self._require_pki()
        listen = (
            f"SASL_SSL://127.0.0.1:{self.port},SSL://127.0.0.1:{self.ssl_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}"
        )
        return {
            "listeners": listen,
            "advertised.listeners": listen.rsplit(",", 1)[0],
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL",
            "inter.broker.listener.name": "SSL",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(pki["broker"].bundle),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(pki.ca),
            "ssl.client.auth": "none",
            "listener.name.ssl.ssl.client.auth": "required",
            "listener.name.controller.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": _CN_RULE,
            "sasl.enabled.mechanisms": SCRAM,
            f"listener.name.sasl_ssl.{SCRAM.lower()}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "authorizer.class.name": AUTHORIZER,
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:broker;User:{self.admin}",
        }

    # -- clients -----------------------------------------------------------------------------
    def _require_pki(self) -> Pki:
        if self.pki is None:
            raise ServiceError("the secure broker has no certificates yet: start() it first")
        return self.pki

    def sasl_client(self, user: str, password: str) -> dict[str, Any]:
        """kafka-python connection kwargs for a SCRAM user on the SASL_SSL listener."""
        return {
            "bootstrap_servers": [self.bootstrap],
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": SCRAM,
            "sasl_plain_username": user,
            "sasl_plain_password": password,
            "ssl_cafile": str(self._require_pki().ca),
        }

    def mtls_client(self, name: str) -> dict[str, Any]:
        """kafka-python connection kwargs for certificate ``name`` on the mutual-TLS listener."""
        pki = self._require_pki()
        ident = pki[name]
        return {
            "bootstrap_servers": [self.ssl_bootstrap],
            "security_protocol": "SSL",
            "ssl_cafile": str(pki.ca),
            "ssl_certfile": str(ident.cert),
            "ssl_keyfile": str(ident.key),
        }

    @contextlib.contextmanager
    def admin_client(self) -> Iterator[Any]:
        """A KafkaAdminClient authenticated as the super user (admin certificate, mTLS)."""
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(client_id="mira-admin", **self.mtls_client(self.admin))
        try:
            yield admin
        finally:
            admin.close()

    def add_users(self, users: Mapping[str, str]) -> None:
        """Create or update SCRAM-SHA-512 users (name -> password) through the admin API."""
        from kafka.admin import UserScramCredentialUpsertion

        with self.admin_client() as admin:
            result = admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion(name, SCRAM, pw) for name, pw in users.items()]
            )
        failed = {user: err for user, err in result.items() if err}
        if failed:
            raise ServiceError(f"could not set SCRAM credentials: {failed}")
