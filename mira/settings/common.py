"""Settings every command reads: limits of document admission, and logging."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mira.settings.section import Section


class DocumentSettings(Section):
    """Limits of admission, the same for produce, filter, score and discovery readers."""

    max_bytes: int = Field(1024 * 1024, ge=64, description="Largest accepted record in bytes.")
    max_id_chars: int = Field(512, ge=1, description="Longest accepted id and source.")


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    json_format: bool = Field(False, description="One JSON object per log line.")
