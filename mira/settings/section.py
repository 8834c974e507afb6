"""The base of every settings section: frozen, and no field it does not declare.

Sections are frozen: library code receives a section (or plain arguments) and never changes it.
CLI options are generated from the sections' fields (``mira.command.settings_options``), so a
flag's help text and default come from the field's description and default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
