"""A broker outage longer than the group session: the static member is fenced, the scorer lives.

librdkafka makes FENCED_INSTANCE_ID fatal (its issue #3437): after the session expired the
consumer rejoins under a new member id and a request with the old one is refused.  The scorer
replaces such a consumer (scorer/fencing.py) instead of exiting; kafka-python's consumer rejoins
by itself.  At-least-once: an exactly-once scorer whose transaction outlives
``transaction_timeout_ms`` is fenced as a producer, which ends it by design (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mira.services.kafka import KafkaBroker
from mira.services.triton import TritonServer
from tests.integration.streaming.test_faults import broker_outage
from tests.integration.streaming.test_faults import own_broker as own_broker

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SESSION_MS = 6000  # the broker's group.min.session.timeout.ms


def test_an_outage_longer_than_the_session(
    own_broker: KafkaBroker,
    stream_triton: TritonServer,
    stream_manifest: Path,
    scorer_factory: Any,
    kafka_client: str,
) -> None:
    broker_outage(
        (own_broker, stream_triton, stream_manifest, scorer_factory),
        ("at-least-once", kafka_client, 2 * SESSION_MS / 1000),
        MIRA_SCORER_SESSION_TIMEOUT_MS=str(SESSION_MS),
    )
