"""What every ``mira`` sub-command shares: the settings context, one-line failures, and click
options generated from settings fields (so flags take their default and help from settings).
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn, get_args, get_origin

import click
from pydantic import SecretStr

from mira.settings import MiraSettings, SettingsError, load_settings

F = Callable[..., Any]


class Context:
    """What every sub-command gets through ``click.pass_obj``."""

    def __init__(self, config: Path | None, log_level: str | None, log_json: bool | None):
        self.config = config
        self._log = {"level": log_level, "json_format": log_json}

    def settings(self, overrides: Mapping[str, Any] | None = None) -> MiraSettings:
        """Load settings (file < env < these CLI overrides); exit 2 with one line on error."""
        merged = {"log": self._log, **(overrides or {})}
        try:
            return load_settings(self.config, merged)
        except SettingsError as exc:
            return fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line and exit (2 = bad usage or settings)."""
    click.echo(f"mira: error: {message}", err=True)
    sys.exit(code)


def _click_type(annotation: Any) -> tuple[Any, bool]:
    """(click type, is_flag) for a settings field annotation; Optional is unwrapped."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else str
    if get_origin(annotation) is Literal:
        return click.Choice([str(a) for a in get_args(annotation)]), False
    if annotation is bool:
        return bool, True
    if annotation is Path:
        return click.Path(path_type=Path), False
    if annotation in (int, float, str):
        return annotation, False
    if annotation is SecretStr:
        raise TypeError("secrets are never CLI flags: use the environment or a file")
    return str, False


def settings_options(
    section: str, fields: Iterable[str] | None = None, dest: str | None = None
) -> Callable[[F], F]:
    """Click options for ``fields`` of settings ``section`` (all but secrets by default).

    Each option defaults to None (the settings layers decide) and shows the settings default in
    its help.  Values arrive in the command's keyword arguments as ``<dest or section>__<field>``
    and ``overrides(kwargs)`` turns them into the nested dict ``Context.settings`` takes.
    """
    model = MiraSettings.model_fields[section].annotation
    assert isinstance(model, type)
    names = (
        list(fields)
        if fields is not None
        else [
            n
            for n, f in model.model_fields.items()
            if f.annotation not in (SecretStr, SecretStr | None)
        ]
    )
    prefix = dest or section

    def decorate(fn: F) -> F:
        for name in reversed(names):
            info = model.model_fields[name]
            kind, flag = _click_type(info.annotation)
            default = info.get_default(call_default_factory=True)
            help_text = (info.description or "").rstrip(".") + f" [{section}.{name}: {default}]"
            flag_name = "--" + name.replace("_", "-")
            decls = [
                f"{flag_name}/--no-{flag_name[2:]}" if flag else flag_name,
                f"{prefix}__{name}",
            ]
            fn = click.option(
                *decls, type=None if flag else kind, default=None, help=help_text.strip()
            )(fn)
        return fn

    return decorate


def overrides(kwargs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"distill__seed": 3}`` -> ``{"distill": {"seed": 3}}`` (None values are ignored later)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in kwargs.items():
        section, sep, name = key.partition("__")
        if sep:
            out.setdefault(section, {})[name] = value
    return out
