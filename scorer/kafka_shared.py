"""What both Kafka clients' IO (``kafka_io`` on kafka-python, ``confluent_io`` on librdkafka)
share: output sizing, the transactional id, held outputs per partition, the output topics' limits.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping
from typing import Any

from mira.settings import MiraSettings
from scorer.delivery import RECORD_OVERHEAD, Entry, Held, OutMessage
from scorer.offsets import Ready

log = logging.getLogger(__name__)
OUTPUT_ENVELOPE = 64 * 1024  # the verdict and headers an output adds to its input document


def transactional_id(settings: MiraSettings) -> str:
    """The exactly-once producer id: the setting, else ``<group_id>-<hostname>``."""
    sc = settings.scorer
    return sc.transactional_id or f"{sc.group_id}-{socket.gethostname()}"


def merge(into: dict[Any, Held], tp: Any, ready: Ready[OutMessage]) -> None:
    """Append ``ready`` (later offsets) to what is held for ``tp``."""
    merge_held(into, tp, Held(ready.epoch, [Entry(o, m) for o, m in ready.items]))


def merge_held(into: dict[Any, Held], tp: Any, held: Held) -> None:
    current = into.get(tp)
    if current is None or current.epoch != held.epoch:
        into[tp] = held
    else:
        current.entries.extend(held.entries)


def output_limits(
    settings: MiraSettings, describe: Callable[[list[str]], Mapping[str, Any]]
) -> dict[str, int]:
    """Largest output value per output topic, from its ``max.message.bytes`` as ``describe``
    (the client's DescribeConfigs: topic -> value or None) reads it; {} where it cannot."""
    t = settings.topics
    topics = [name for name in (t.accepted, t.rejected, t.dlq) if name]
    try:
        values = describe(topics)
    except Exception as exc:  # no DescribeConfigs permission, unknown topic, older broker
        log.warning(
            "cannot read the output topics' max.message.bytes (%s): outputs are "
            "sized to the producer request size only",
            exc,
        )
        return {}
    return {n: int(v) - RECORD_OVERHEAD for n, v in values.items() if v}


def describe(settings: MiraSettings, topics: list[str]) -> dict[str, Any]:
    """``max.message.bytes`` of each topic as kafka-python's admin client reads it (or None)."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(**settings.kafka.client_kwargs())
    try:
        found = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in topics],
            config_filter="all",
        ).get("topic", {})
    finally:
        admin.close()
    return {n: found.get(n, {}).get("max.message.bytes", {}).get("value") for n in topics}
