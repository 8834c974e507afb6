"""All settings of mira: sections (the only home of defaults) and their loader.

Every default of mira lives in a section, with a description per field, grouped by what it
configures: ``common`` (document limits, logging), ``transport`` (Kafka, topics, producer,
Triton), ``scoring`` (engine, streaming scorer) and ``offline`` (corpus, teacher, discovery,
distill, export); ``section`` is their frozen base.

Precedence, lowest to highest: defaults < config file (YAML or TOML) < environment (``MIRA_``
prefix, ``_`` between section and field, e.g. ``MIRA_KAFKA_BOOTSTRAP``) < CLI flags.
Library code never reads settings: commands load them and pass a frozen section down.
"""

from mira.settings.common import DocumentSettings, LogSettings
from mira.settings.loader import MiraSettings, SettingsError, load_settings, read_config_file
from mira.settings.offline import (
    CorpusSettings,
    DiscoverySettings,
    DistillSettings,
    ExportSettings,
    TeacherSettings,
)
from mira.settings.scoring import EngineSettings, ScorerSettings
from mira.settings.section import Section
from mira.settings.transport import KafkaSettings, ProducerSettings, TopicSettings, TritonSettings

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
