"""A broker outage longer than the group session: the static member is fenced, the scorer lives.

librdkafka makes FENCED_INSTANCE_ID fatal (its issue #3437): after the session expired the
consumer rejoins under a new member id and a request with the old one is refused.  The scorer
replaces such a consumer (scorer/fencing.py) instead of exiting; kafka-python's consumer rejoins
by itself.  At-least-once: an exactly-once scorer whose transaction outlives
``transaction_timeout_ms`` is fenced as a producer, which ends it by design (docs/reliability.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mira.services.kafka import KafkaBroker
from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import scorer_env
from tests.integration.streaming.kafkautil import create_topics, make_docs, produce
from tests.integration.streaming.test_faults import OUT, SOURCES, account, feeding, outputs
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
    bootstrap = own_broker.bootstrap
    topics = {k: f"s.{k}" for k in ("docs", *OUT)}
    topics["group"] = f"s-{kafka_client}"
    create_topics(bootstrap, [topics[k] for k in ("docs", *OUT)], partitions=3)
    docs = make_docs(2000, SOURCES, bad_every=97)
    env = scorer_env(bootstrap, topics, stream_manifest, stream_triton.grpc_url, "at-least-once")
    env |= {"MIRA_KAFKA_CLIENT": kafka_client, "MIRA_SCORER_SESSION_TIMEOUT_MS": str(SESSION_MS)}
    scorer = scorer_factory(env)
    feeder = feeding(bootstrap, topics["docs"], docs[:1000], 100, 0.3)
    scorer.wait_for("mira_commits_total", 1, timeout_s=90)
    feeder.join()
    own_broker.kill()
    time.sleep(2 * SESSION_MS / 1000)  # the client's session expires while the broker is gone
    scorer.check_alive()
    own_broker.start()
    produce(bootstrap, topics["docs"], docs[1000:])
    out = outputs(bootstrap, topics, docs, timeout_s=180)
    scorer.check_alive()
    assert scorer.terminate() == 0
    out = outputs(bootstrap, topics, docs, timeout_s=30)
    account(f"broker down past the session, {kafka_client}", out, docs, False)
