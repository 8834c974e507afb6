"""Loading settings: defaults < config file < environment < CLI flags, one line on error.

Precedence, lowest to highest: defaults < config file (YAML or TOML) < environment (``MIRA_``
prefix, ``_`` between section and field, e.g. ``MIRA_KAFKA_BOOTSTRAP``) < CLI flags.
Library code never reads settings: commands load them here and pass plain arguments on.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mira.settings.common import DocumentSettings, LogSettings
from mira.settings.offline import (
    CorpusSettings,
    DiscoverySettings,
    DistillSettings,
    ExportSettings,
    TeacherSettings,
)
from mira.settings.scoring import EngineSettings, ScorerSettings
from mira.settings.secrets import EnvWithSecretFiles, SecretFileError
from mira.settings.transport import KafkaSettings, ProducerSettings, TopicSettings, TritonSettings


class SettingsError(Exception):
    """An invalid setting: one line naming the field and where its value came from."""


class MiraSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MIRA_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = EnvWithSecretFiles(settings_cls)
        return init_settings, env, dotenv_settings, file_secret_settings

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    document: DocumentSettings = DocumentSettings()
    engine: EngineSettings = EngineSettings()
    producer: ProducerSettings = ProducerSettings()
    triton: TritonSettings = TritonSettings()
    scorer: ScorerSettings = ScorerSettings()
    log: LogSettings = LogSettings()
    teacher: TeacherSettings = TeacherSettings()
    discovery: DiscoverySettings = DiscoverySettings()
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
    try:
        return EnvWithSecretFiles(MiraSettings)()
    except SecretFileError as exc:
        raise SettingsError(str(exc)) from None


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


def _describe_source(loc: tuple[Any, ...], layers: list[tuple[str, Mapping[str, Any]]]) -> str:
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
    except SettingsError:
        raise
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
        shown = "***" if _may_hold_secret(loc, err["type"], value) else repr(value)
        field = ".".join(str(p) for p in loc)
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SettingsError(
            f"invalid setting {field} = {shown} (from {where}): {err['msg']}{more}"
        ) from None


def _may_hold_secret(loc: tuple[Any, ...], kind: str, value: Any) -> bool:
    """Whether an invalid value must not be echoed: a secret field, an unknown field (maybe a
    misspelt secret), or a whole section or list (it may contain one)."""
    named = any(k in str(p).lower() for p in loc for k in ("password", "api_key", "secret"))
    return named or kind == "extra_forbidden" or isinstance(value, Mapping | list | tuple)


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
