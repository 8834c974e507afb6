"""Settings sections: every default of mira lives here, with a description per field.

Sections are frozen: library code receives a section (or plain arguments) and never changes it.
CLI options are generated from these fields (``mira.command.settings_options``), so a flag's help
text and default come from here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class DocumentSettings(Section):
    """Limits of admission, the same for produce, filter, score and discovery readers."""

    max_bytes: int = Field(1024 * 1024, ge=64, description="Largest accepted record in bytes.")
    max_id_chars: int = Field(512, ge=1, description="Longest accepted id and source.")


class EngineSettings(Section):
    """The scoring engine shared by ``mira filter``, ``mira score`` and calibration."""

    pre_cut_margin: float = Field(
        1.3,
        ge=1.0,
        description="Texts are cut to max_length x the "
        "source's measured characters per token x this before "
        "tokenizing.",
    )
    retry_initial_s: float = Field(
        0.1, gt=0, description="First backoff after an infrastructure failure."
    )
    retry_max_s: float = Field(5.0, gt=0, description="Longest backoff.")
    ambiguous_retries: int = Field(
        3,
        ge=0,
        description="Retries of a batch failing with an "
        "ambiguous error (INTERNAL) before it is split to find a "
        "document at fault.",
    )
    local_max_attempts: int = Field(
        3,
        ge=1,
        description="mira filter: attempts of a batch "
        "before an infrastructure failure ends the run.",
    )
    ort_threads: int | None = Field(
        None, ge=1, description="onnxruntime intra-op threads (default: all cores)."
    )


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


class ScorerSettings(Section):
    group_id: str = Field("mira-scorer", description="Kafka consumer group.")
    manifest: Path = Field(
        Path("model_repository/mira_manifest.json"), description="Model repository manifest."
    )
    delivery: Literal["at-least-once", "exactly-once"] = Field(
        "at-least-once", description="Delivery guarantee of the streaming scorer."
    )
    batch_size: int = Field(64, ge=1, description="Documents per inference batch.")
    max_wait_ms: int = Field(20, ge=0, description="Longest a partial batch waits.")
    unknown_source: Literal["fallback", "dead-letter"] = Field(
        "fallback", description="Unseen sources: score with the fallback group, or dead-letter."
    )
    tokenizer_workers: int = Field(1, ge=1, description="Tokenizer processes (1 = a thread).")
    metrics_port: int = Field(
        9400, ge=0, le=65535, description="Port of /metrics, /healthz, /readyz (0 = any free port)."
    )
    drain_timeout_s: float = Field(20.0, gt=0, description="SIGTERM drain bound.")
    max_pending: int = Field(4096, ge=1, description="Pause input above this many documents.")
    commit_interval_ms: int = Field(200, ge=1, description="How often outputs are delivered.")
    poll_ms: int = Field(
        50,
        ge=1,
        description="Longest a poll waits while documents are in "
        "progress (bounds how late finished work is delivered).",
    )
    idle_poll_ms: int = Field(
        2000,
        ge=1,
        description="Longest a poll waits when nothing is in "
        "progress; a record ends the wait at once (idle CPU, and how "
        "late SIGTERM is noticed when idle).",
    )
    probe_interval_s: float = Field(
        5.0,
        gt=0,
        description="Triton readiness probe period while "
        "Triton answers (every second while it does not).",
    )
    delivery_timeout_s: float = Field(
        60.0, gt=0, description="At-least-once: longest wait for the acks of one delivery cycle."
    )
    revoke_drain_s: float = Field(
        5.0,
        ge=0,
        description="kafka.client confluent: how long a "
        "revocation waits for the revoked partitions' documents in "
        "flight, so their results are committed before the partitions "
        "go (keep well under session_timeout_ms).",
    )
    reload_interval_s: float = Field(5.0, gt=0, description="Manifest change check interval.")
    transactional_id: str | None = Field(
        None, description="Exactly-once producer id (default: <group_id>-<hostname>)."
    )
    instance_id: str | None = Field(
        None, description="Static group membership id (e.g. the StatefulSet pod name)."
    )
    session_timeout_ms: int = Field(45_000, ge=1000, description="Consumer session timeout.")
    max_poll_interval_ms: int = Field(300_000, ge=1000, description="Consumer poll interval.")
    max_poll_records: int = Field(500, ge=1, description="Records per consumer poll.")
    transaction_timeout_ms: int = Field(15_000, ge=1000, description="Transaction timeout.")
    metadata_max_age_ms: int = Field(30_000, ge=1000, description="Metadata refresh interval.")
    rollout_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Longest a reload waits for a new "
        "model version to be ready on every Triton endpoint (then "
        "the old manifest stays and the next poll tries again).",
    )


class TeacherSettings(Section):
    """Teacher LLM for discovery (``mira discover``); env e.g. MIRA_TEACHER_URL."""

    backend: Literal["local", "openai", "vllm"] = Field("local", description="Teacher backend.")
    url: str | None = Field(None, description="OpenAI-compatible server URL (openai).")
    model: str | None = Field(None, description="Local folder, served model name or hub id.")
    api_key: SecretStr | None = None
    timeout_s: float = Field(120.0, gt=0, description="Timeout of one HTTP request.")
    concurrency: int = Field(4, ge=1, description="Parallel HTTP requests.")
    batch_size: int = Field(8, ge=1, description="Documents per teacher batch.")
    max_new_tokens: int = Field(256, ge=8, description="Token limit of one answer.")
    max_retries: int = Field(2, ge=0, description="Retries of an invalid answer.")
    device: str = Field("cpu", description="Local backend device: cpu, cuda, cuda:1, ...")
    quantize: bool = Field(
        True,
        description="Local backend on CPU: int8 linear layers "
        "(1.7x faster prefill, 2.9x faster decoding steps).",
    )


class DiscoverySettings(Section):
    """Sizes of ``mira discover`` (grouping, rubrics, annotation)."""

    k: int | None = Field(
        None,
        ge=1,
        description="Number of groups (default: chosen by silhouette between k_min and k_max).",
    )
    k_min: int = Field(
        3,
        ge=1,
        description="Smallest k tried (k=2 only ever splits code from "
        "the rest: docs/benchmarks.md).",
    )
    k_max: int = Field(8, ge=1, description="Largest k tried.")
    samples_per_source: int = Field(16, ge=1, description="Documents embedded per source.")
    feature_docs: int = Field(
        64, ge=1, description="Documents per source whose format features are averaged."
    )
    embed_weight: float = Field(
        0.3,
        ge=0,
        description="Weight of the topic embedding beside the format features (0: format only).",
    )
    embed_max_length: int = Field(128, ge=8, description="Tokens embedded per document.")
    anchors: int = Field(15, ge=1, description="Anchors per group at most.")
    samples_per_group: int = Field(
        16, ge=1, description="Documents whose proposals make the rubric."
    )
    dims_per_doc: int = Field(2, ge=1, description="Dimensions proposed per document.")
    proposal_rounds: int = Field(
        3,
        ge=1,
        description="Rounds of proposals: a group without a "
        "valid proposal gets samples_per_group new documents per round.",
    )
    proposal_temperature: float = Field(
        0.7, ge=0, description="Sampling temperature of proposals (greedy repeats one idea)."
    )
    proposal_tokens: int = Field(
        16,
        ge=1,
        description="Budget of each proposal's high/low "
        "text (4 characters per token, in the answer's JSON Schema).",
    )
    docs_per_group: int = Field(64, ge=1, description="Documents annotated per group.")
    max_chars: int = Field(1500, ge=1, description="Characters of a document shown to the teacher.")
    rationale_tokens: int = Field(
        12,
        ge=1,
        description="Budget of each rationale (4 "
        "characters per token, in the answer's JSON Schema).",
    )
    seed: int = Field(0, description="Seed of every sample.")

    @model_validator(mode="after")
    def _k_range(self) -> DiscoverySettings:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        return self


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    json_format: bool = Field(False, description="One JSON object per log line.")


class DistillSettings(Section):
    """Student training (``mira distill``)."""

    heldout: float = Field(0.2, gt=0, lt=1, description="Held-out fraction of documents.")
    seed: int = Field(0, description="Split and init seed.")
    max_length: int = Field(128, ge=8, le=512, description="Tokens per document.")
    max_chars: int = Field(2048, ge=64, description="Characters kept before tokenizing.")
    trainable_layers: int = Field(
        0, ge=0, le=6, description="Encoder layers to fine-tune, from the top; 0 = frozen encoder."
    )
    max_epochs: int = Field(40, ge=1, description="Epoch limit.")
    patience: int = Field(6, ge=1, description="Early-stopping patience in epochs.")
    batch_size: int = Field(16, ge=1, description="Training batch size.")
    lr: float = Field(1e-2, gt=0, description="Head learning rate (layers get lr/100).")
    device: str = Field("auto", description="auto | cpu | cuda.")
    drop_flagged: bool = Field(
        True,
        description="Leave out annotations of documents flagged as addressing the teacher "
        "(prompt injection): their scores may follow the document, not the rubric.",
    )


class ExportSettings(Section):
    """Model repository export and threshold calibration (``mira export``)."""

    budget: float = Field(0.5, gt=0, le=1, description="Share of tokens to keep.")
    flavour: Literal["python", "onnxruntime"] = Field(
        "python",
        description="config.pbtxt flavour: python (CPU, onnxruntime inside) or onnxruntime (GPU).",
    )
    calibration_docs: int = Field(2000, ge=1, description="Documents sampled for thresholds.")
    seed: int = Field(0, description="Calibration sample seed.")
    max_batch_size: int = Field(128, ge=1, description="Triton max_batch_size.")
    instances: int = Field(1, ge=1, description="Triton instances per model.")
    queue_timeout_ms: int = Field(
        10_000,
        ge=1,
        description="Triton rejects a request still "
        "queued after this (config default_queue_policy REJECT; a "
        "request may lower it): work its client gave up on is never "
        "computed later.",
    )
    execution_env: str | None = Field(None, description="python flavour: EXECUTION_ENV_PATH.")
    parity_tol: float = Field(1e-4, gt=0, description="Max abs ONNX-vs-torch difference.")
    parity_docs: int = Field(16, ge=1, description="Documents of the parity check.")
    quantize: Literal["none", "int8"] = Field(
        "none",
        description="python (CPU) flavour: int8 dynamic quantization of the student (~1.9x "
        "faster on CPU; scores rank alike but 2-4% of decisions differ from fp32, so opt-in); "
        "the onnxruntime (GPU) flavour always publishes fp32. See docs/benchmarks.md.",
    )
    quantize_docs: int = Field(
        256, ge=3, description="Documents on which the int8 graph is compared with fp32."
    )
    quantize_min_spearman: float = Field(
        0.99,
        ge=0,
        le=1,
        description="Publish the int8 graph only if its scores' Spearman correlation with "
        "fp32 reaches this; else fp32 is published (with a warning).",
    )
    keep_versions: int = Field(
        2,
        ge=1,
        description="config.pbtxt version policy: Triton keeps "
        "the newest N versions loaded, so the previous one still serves "
        "requests while scorers switch.",
    )
    warmup: bool = Field(
        True,
        description="config.pbtxt model_warmup: a batch of 1 and one of "
        "max_batch_size at max_length (zero tokens) run before a version is "
        "ready.",
    )


class CorpusSettings(Section):
    """Corpus builder (``mira corpus build``)."""

    seed: int = Field(0, description="Sampling seed.")
    max_docs: int | None = Field(
        None, ge=1, description="Total documents, spread round-robin over sources."
    )
    per_source_cap: int | None = Field(
        None, ge=1, description="At most this many documents per source."
    )
    max_doc_bytes: int = Field(
        32 * 1024, ge=64, description="Longer documents are cut (or skipped)."
    )
    min_doc_bytes: int = Field(200, ge=0, description="Shorter documents are skipped.")
    oversize: Literal["cut", "skip"] = Field("cut", description="What to do past max_doc_bytes.")
    max_file_bytes: int = Field(
        16 * 1024 * 1024, ge=1, description="Files larger than this are skipped unread."
    )
    require_sources: int = Field(
        0, ge=0, description="Fail (exit 1) if fewer sources have documents."
    )
