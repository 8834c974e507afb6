"""Settings of the transports: Kafka (connection, topics, producer) and Triton (gRPC clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from mira.settings.section import Section


class KafkaSettings(Section):
    """Connection to Kafka, shared by every client (produce, score, tests)."""

    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port,...).")
    client_id: str = Field("mira", description="Client id sent to the broker.")
    client: Literal["kafka-python", "confluent"] = Field(
        "kafka-python",
        description="Kafka client of mira score: kafka-python (pure Python) or "
        "confluent (confluent-kafka, librdkafka: less CPU per document).",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for kafka-python clients (secrets revealed here only)."""
        kw: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap.split(","),
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            kw["sasl_mechanism"] = self.sasl_mechanism
            kw["sasl_plain_username"] = self.sasl_username
            if self.sasl_password is not None:
                kw["sasl_plain_password"] = self.sasl_password.get_secret_value()
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(self, name)
            if value is not None:
                kw[name] = str(value)
        if self.ssl_password is not None:
            kw["ssl_password"] = self.ssl_password.get_secret_value()
        return kw

    def librdkafka_config(self) -> dict[str, Any]:
        """The same connection as librdkafka properties (confluent-kafka clients)."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "client.id": self.client_id,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_username
            if self.sasl_password is not None:
                conf["sasl.password"] = self.sasl_password.get_secret_value()
        for name, key in (
            ("ssl_cafile", "ssl.ca.location"),
            ("ssl_certfile", "ssl.certificate.location"),
            ("ssl_keyfile", "ssl.key.location"),
        ):
            value = getattr(self, name)
            if value is not None:
                conf[key] = str(value)
        if self.ssl_password is not None:
            conf["ssl.key.password"] = self.ssl_password.get_secret_value()
        return conf


class TopicSettings(Section):
    input: str = Field("mira.docs", description="Input topic of Document v1 messages.")
    accepted: str = Field("mira.accepted", description="Topic of accepted documents.")
    rejected: str | None = Field(
        "mira.rejected",
        description="Topic of rejected documents (empty: rejected documents are not written).",
    )
    dlq: str = Field("mira.dlq", description="Dead-letter topic.")


class ProducerSettings(Section):
    compression: Literal["lz4", "zstd", "gzip", "none"] = Field(
        "lz4", description="Compression of produced batches."
    )
    linger_ms: int = Field(20, ge=0, description="How long the producer waits to fill a batch.")
    batch_bytes: int = Field(256 * 1024, ge=1024, description="Producer batch size in bytes.")
    acks: Literal["all", "1", "0"] = Field("all", description="Producer acks (mira produce).")
    rate: float | None = Field(None, gt=0, description="Documents per second at most.")
    partitions: int = Field(6, ge=1, description="Partitions of a topic created by mira.")
    replication: int = Field(1, ge=1, description="Replication factor of created topics.")


class TritonSettings(Section):
    grpc_url: str = Field(
        "127.0.0.1:8001",
        description="Triton gRPC address host:port, or a "
        "comma-separated list; every address a host name resolves to is "
        "used (a headless Service lists every ready Triton pod).",
    )
    http_url: str = Field("127.0.0.1:8000", description="Triton HTTP address host:port.")
    max_in_flight: int = Field(4, ge=1, description="Concurrent Triton requests per endpoint.")
    timeout_s: float = Field(
        30.0,
        gt=0,
        description="Base of an inference request's client "
        "deadline (network, slack) and the timeout of control calls.",
    )
    queue_timeout_ms: int = Field(
        10_000,
        ge=1,
        description="Triton rejects a request still "
        "queued after this (sent per request; the exported queue "
        "policy allows lowering its own); the client deadline adds it.",
    )
    token_budget_ms: float = Field(
        1.0,
        gt=0,
        description="Execution budget per token: the "
        "client deadline adds batch size x sequence length x this, "
        "so big batches are not given up while being computed.",
    )
    ssl: bool = Field(False, description="gRPC over TLS (tritonserver --grpc-use-ssl).")
    ssl_root_cert: Path | None = Field(None, description="CA bundle (PEM) to trust.")
    ssl_cert: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_key: Path | None = Field(None, description="Client private key (mutual TLS).")
    endpoint_refresh_s: float = Field(
        5.0,
        gt=0,
        description="How often the grpc_url host "
        "names are resolved again and every endpoint's readiness "
        "(server and model versions in use) is checked.",
    )

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TritonSettings:
        if (self.ssl_cert is None) != (self.ssl_key is None):
            raise ValueError("triton.ssl_cert and triton.ssl_key go together (mutual TLS)")
        self.grpc_targets()
        return self

    def grpc_targets(self) -> list[tuple[str, int]]:
        """``grpc_url`` as (host, port) pairs; ``[v6]:port`` keeps its address unbracketed."""
        out = []
        for part in (p.strip() for p in self.grpc_url.split(",")):
            host, sep, port = part.rpartition(":")
            host = host.removeprefix("[").removesuffix("]")
            if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(f"triton.grpc_url: {part!r} is not host:port")
            out.append((host, int(port)))
        return out

    def grpc_tls_kwargs(self) -> dict[str, Any]:
        """TLS keyword arguments for ``tritonclient.grpc[.aio].InferenceServerClient``."""
        if not self.ssl:
            return {}
        paths = {
            "root_certificates": self.ssl_root_cert,
            "private_key": self.ssl_key,
            "certificate_chain": self.ssl_cert,
        }
        return {"ssl": True, **{k: str(v) for k, v in paths.items() if v is not None}}
