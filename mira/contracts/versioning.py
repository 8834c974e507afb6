"""Loading versioned artifacts: the current ``schema_version`` and the one before it.

Every artifact model declares ``schema_version: Literal[N] = N``.  ``load_artifact`` reads JSON,
upgrades a version ``N - 1`` document through the model's registered migration and validates it;
anything older or newer is refused with one line naming the file's version and what is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Migration = Callable[[dict[str, Any]], dict[str, Any]]

# model class -> migration from (current - 1) to current
_MIGRATIONS: dict[type[BaseModel], Migration] = {}


class ArtifactError(ValueError):
    """An artifact that cannot be read (one line: what, where, why)."""


def current_version(model: type[BaseModel]) -> int:
    default = model.model_fields["schema_version"].default
    return int(default)


def migrates(model: type[M]) -> Callable[[Migration], Migration]:
    """Register ``fn`` as the upgrade of ``model`` documents from version N - 1 to N."""

    def register(fn: Migration) -> Migration:
        _MIGRATIONS[model] = fn
        return fn

    return register


def load_artifact(model: type[M], raw: str | bytes, where: str = "") -> M:
    """Parse and validate one artifact of ``model``; accepts its current and previous version."""
    label = where or model.__name__
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{label}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{label}: not a JSON object")
    want = current_version(model)
    got = data.get("schema_version", 1)
    if got == want - 1 and model in _MIGRATIONS:
        data = _MIGRATIONS[model]({**data, "schema_version": got})
    elif got != want:
        older = f" and {want - 1}" if model in _MIGRATIONS else ""
        raise ArtifactError(
            f"{label}: schema_version {got!r} is not supported "
            f"(this mira reads {model.__name__} version {want}{older})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or model.__name__
        raise ArtifactError(f"{label}: {loc}: {err['msg']}") from None
