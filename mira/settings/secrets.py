"""Secrets from files: ``MIRA_<SECTION>_<FIELD>_FILE=/path`` sets a SecretStr field to that
file's content (Kubernetes secret volumes, Docker secrets).  Values are never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretStr
from pydantic_settings import EnvSettingsSource


class SecretFileError(Exception):
    """A ``*_FILE`` variable that cannot be used (one line, never the value)."""


class EnvWithSecretFiles(EnvSettingsSource):
    """The ``MIRA_`` environment, plus ``MIRA_<SECTION>_<SECRET>_FILE`` variables read."""

    def __call__(self) -> dict[str, Any]:
        return read_secret_files(dict(super().__call__()), secret_fields(self.settings_cls))


def secret_fields(settings_cls: type[BaseModel]) -> dict[str, list[str]]:
    """Section name -> its SecretStr fields (the only ones a ``*_FILE`` variable may set)."""
    out: dict[str, list[str]] = {}
    for section, info in settings_cls.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            out[section] = [
                name
                for name, f in model.model_fields.items()
                if SecretStr in (f.annotation, *get_args(f.annotation))
            ]
    return out


def read_secret_files(env: dict[str, Any], fields: dict[str, list[str]]) -> dict[str, Any]:
    """Replace each ``<field>_file`` of a secret field by the content of that file."""
    for section, names in fields.items():
        data = env.get(section)
        if not isinstance(data, dict):
            continue
        for name in names:
            path = data.pop(f"{name}_file", None)
            if path is None:
                continue
            var = f"MIRA_{section}_{name}".upper()
            if name in data:
                raise SecretFileError(f"both {var} and {var}_FILE are set: keep one")
            data[name] = _read_secret(Path(path), f"{var}_FILE")
    return env


def _read_secret(path: Path, var: str) -> str:
    try:
        value = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise SecretFileError(f"cannot read {var}={path}: {why}") from None
    value = value.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SecretFileError(f"{var}={path} is empty")
    return value
