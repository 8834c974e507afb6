"""All settings of mira: sections (the only home of defaults) and their loader.

Precedence, lowest to highest: defaults < config file (YAML or TOML) < environment (``MIRA_``
prefix, ``_`` between section and field, e.g. ``MIRA_KAFKA_BOOTSTRAP``) < CLI flags.
Library code never reads settings: commands load them and pass a frozen section down.
"""

from mira.settings.loader import MiraSettings, SettingsError, load_settings, read_config_file
from mira.settings.sections import (
    CorpusSettings,
    DiscoverySettings,
    DistillSettings,
    DocumentSettings,
    EngineSettings,
    ExportSettings,
    KafkaSettings,
    LogSettings,
    ProducerSettings,
    ScorerSettings,
    Section,
    TeacherSettings,
    TopicSettings,
    TritonSettings,
)

__all__ = [
    "CorpusSettings",
    "DiscoverySettings",
    "DistillSettings",
    "DocumentSettings",
    "EngineSettings",
    "ExportSettings",
    "KafkaSettings",
    "LogSettings",
    "MiraSettings",
    "ProducerSettings",
    "ScorerSettings",
    "Section",
    "SettingsError",
    "TeacherSettings",
    "TopicSettings",
    "TritonSettings",
    "load_settings",
    "read_config_file",
]
