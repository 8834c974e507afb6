"""All settings, read in this one module.

Precedence, lowest to highest: defaults < config file (YAML or TOML) < environment (``MIRA_``
prefix, ``_`` between section and field, e.g. ``MIRA_KAFKA_BOOTSTRAP``) < CLI flags.
Library code never reads settings: commands load them here and pass plain arguments on.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict


class SettingsError(Exception):
    """An invalid setting: one line naming the field and where its value came from."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSettings(_Section):
    bootstrap: str = "127.0.0.1:9092"
    client_id: str = "mira"
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


class TopicSettings(_Section):
    input: str = "mira.docs"
    accepted: str = "mira.accepted"
    rejected: str | None = "mira.rejected"
    dlq: str = "mira.dlq"


class ProducerSettings(_Section):
    compression: Literal["lz4", "zstd", "gzip", "none"] = "lz4"
    linger_ms: int = Field(default=20, ge=0)
    batch_bytes: int = Field(default=256 * 1024, ge=1024)
    acks: Literal["all", "1", "0"] = "all"
    rate_limit: float | None = Field(default=None, gt=0, description="docs per second")
    partitions: int = Field(default=6, ge=1)
    replication: int = Field(default=1, ge=1)


class TritonSettings(_Section):
    grpc_url: str = "127.0.0.1:8001"
    http_url: str = "127.0.0.1:8000"
    max_in_flight: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)


class ScorerSettings(_Section):
    group_id: str = "mira-scorer"
    manifest: Path = Path("model_repository/mira_manifest.json")
    delivery: Literal["at-least-once", "exactly-once"] = "at-least-once"
    batch_size: int = Field(default=64, ge=1)
    max_wait_ms: int = Field(default=20, ge=0)
    max_bytes: int = Field(default=1024 * 1024, ge=1)
    unknown_source: Literal["fallback", "dead-letter"] = "fallback"
    tokenizer_workers: int = Field(default=1, ge=1)
    metrics_port: int = Field(default=9400, ge=0, le=65535)
    drain_timeout_s: float = Field(default=20.0, gt=0)
    max_pending: int = Field(default=4096, ge=1, description="pause input above this many")
    commit_interval_ms: int = Field(default=200, ge=1)
    reload_interval_s: float = Field(default=5.0, gt=0)
    transactional_id: str | None = Field(
        default=None, description="exactly-once producer id (default: <group_id>-<hostname>)"
    )
    instance_id: str | None = Field(
        default=None, description="static group membership id (e.g. the StatefulSet pod name)"
    )
    session_timeout_ms: int = Field(default=45_000, ge=1000)


class TeacherSettings(_Section):
    """Teacher LLM for discovery (``mira discover``); env e.g. MIRA_TEACHER_URL."""

    backend: Literal["local", "openai", "vllm"] = "local"
    url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    concurrency: int = Field(default=4, ge=1)
    batch_size: int = Field(default=8, ge=1)
    max_new_tokens: int = Field(default=256, ge=8)
    max_retries: int = Field(default=2, ge=0)
    device: str = "cpu"  # local backend: "cpu", "cuda", "cuda:1", ...
    quantize: bool = Field(default=True, description="local backend on CPU: int8 linear layers")


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = False


class DistillSettings(_Section):
    """Student training (``mira distill``)."""

    heldout: float = Field(default=0.2, gt=0, lt=1)
    seed: int = 0
    max_length: int = Field(default=128, ge=8, le=512)
    max_chars: int = Field(default=2048, ge=64)
    trainable_layers: int = Field(default=0, ge=0, le=6)
    max_epochs: int = Field(default=40, ge=1)
    patience: int = Field(default=6, ge=1)
    batch_size: int = Field(default=16, ge=1)
    lr: float = Field(default=1e-2, gt=0)
    device: str = "auto"


class ExportSettings(_Section):
    """Model repository export and threshold calibration (``mira export``)."""

    budget: float = Field(default=0.5, gt=0, le=1)
    flavour: Literal["python", "onnxruntime"] = "python"
    calibration_docs: int = Field(default=2000, ge=1)
    seed: int = 0
    max_batch_size: int = Field(default=128, ge=1)
    instances: int = Field(default=1, ge=1)
    execution_env: str | None = None
    parity_tol: float = Field(default=1e-4, gt=0)


class CorpusSettings(_Section):
    """Corpus builder (``mira corpus build``)."""

    seed: int = 0
    max_docs: int | None = Field(default=None, ge=1)
    per_source_cap: int | None = Field(default=None, ge=1)
    max_doc_bytes: int = Field(default=32 * 1024, ge=64)
    min_doc_bytes: int = Field(default=200, ge=0)
    oversize: Literal["cut", "skip"] = "cut"
    max_file_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    require_sources: int = Field(default=0, ge=0)


class MiraSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MIRA_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    producer: ProducerSettings = ProducerSettings()
    triton: TritonSettings = TritonSettings()
    scorer: ScorerSettings = ScorerSettings()
    log: LogSettings = LogSettings()
    teacher: TeacherSettings = TeacherSettings()
    corpus: CorpusSettings = CorpusSettings()
    distill: DistillSettings = DistillSettings()
    export: ExportSettings = ExportSettings()


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML or TOML config file into a nested dict."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"config file {path} is not valid: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path} must hold a mapping at the top level")
    return data


def _env_data() -> dict[str, Any]:
    return dict(EnvSettingsSource(MiraSettings)())


def _deep_merge(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _has_path(data: Mapping[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _describe_source(
    loc: tuple[Any, ...], layers: list[tuple[str, Mapping[str, Any]]]
) -> str:
    dotted = ".".join(str(p) for p in loc)
    for label, data in reversed(layers):
        if _has_path(data, loc[:2]):
            if label == "env":
                return "env MIRA_" + "_".join(str(p) for p in loc[:2]).upper()
            if label == "cli":
                return "CLI flag --" + str(loc[-1]).replace("_", "-")
            return label
    return f"default of {dotted}"


def load_settings(
    config: Path | str | None = None, overrides: Mapping[str, Any] | None = None
) -> MiraSettings:
    """Load settings with full precedence; raise SettingsError with one clear line on error.

    ``config`` falls back to the ``MIRA_CONFIG`` environment variable.  ``overrides`` are CLI
    flags as a nested dict (``{"kafka": {"bootstrap": "..."}}``); ``None`` values are ignored.
    """
    config = config or os.environ.get("MIRA_CONFIG") or None
    file_data = read_config_file(Path(config)) if config else {}
    cli = _drop_none(overrides or {})
    try:
        env = _env_data()
    except Exception as exc:  # pydantic-settings raises SettingsError on undecodable JSON
        raise SettingsError(f"invalid MIRA_ environment variable: {exc}") from None
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (f"config file {config}", file_data),
        ("env", env),
        ("cli", cli),
    ]
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _deep_merge(merged, data)
    try:
        return MiraSettings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = _describe_source(loc, layers)
        value = err.get("input")
        secret = any(k in str(p) for p in loc for k in ("password", "api_key"))
        shown = "***" if secret else repr(value)
        field = ".".join(str(p) for p in loc)
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SettingsError(
            f"invalid setting {field} = {shown} (from {where}): {err['msg']}{more}"
        ) from None


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            inner = _drop_none(value)
            if inner:
                out[key] = inner
        elif value is not None:
            out[key] = value
    return out
