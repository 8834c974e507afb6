"""The committed hostile corpus plus 1,000 valid documents, written raw into the input topic by
kcat, scored by the real ``mira score`` in each delivery mode: the scorer never exits, every
message lands in exactly one output topic, no valid document is dead-lettered, and each hostile
class carries its documented reason code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mira.contracts import H_ERROR
from mira.services.triton import TritonServer
from mira.settings import DocumentSettings
from tests.fixtures.hostile import hostile_cases
from tests.integration.streaming.conftest import SOURCES, scorer_env
from tests.integration.streaming.kafkautil import (
    BIG_TOPIC,
    create_topics,
    kcat_keys,
    kcat_produce,
    make_docs,
    read_all,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OUT = ("accepted", "rejected", "dlq")


@pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
def test_hostile_corpus_is_accounted_for(
    delivery: str,
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
) -> None:
    big = {k: f"{v}.big" for k, v in topics.items() if k != "group"}
    create_topics(kafka_broker.bootstrap, big.values(), partitions=3, config=BIG_TOPIC)
    cases = hostile_cases("src_a", DocumentSettings().max_bytes)
    hostile = [(f"case-{c.name}", c.raw) for c in cases]
    valid = make_docs(1000, SOURCES)
    kcat_produce(kafka_broker.bootstrap, big["docs"], hostile[:18] + valid + hostile[18:], tmp_path)
    env = scorer_env(
        kafka_broker.bootstrap,
        {**big, "group": topics["group"]},
        stream_manifest,
        stream_triton.grpc_url,
        delivery,
    )
    scorer = scorer_factory(env)
    keys = {k for k, _ in hostile} | {k for k, _ in valid}
    out = read_all(
        kafka_broker.bootstrap,
        [big[t] for t in ("accepted", "rejected", "dlq")],
        keys,
        timeout_s=180,
        read_committed=True,
    )
    scorer.check_alive()  # it never exits on what a message holds
    assert scorer.terminate() == 0
    counts = out.id_counts()
    assert set(counts) == keys, f"unaccounted: {sorted(keys - set(counts))[:5]}"
    dup = {k: c for k, c in counts.items() if c > 1}
    if delivery == "exactly-once":
        assert not dup, f"duplicates under exactly-once: {dup}"
    per_topic = {k: t for t, recs in out.records.items() for k in (r.key.decode() for r in recs)}
    assert all(per_topic[k] != big["dlq"] for k, _ in valid), "a valid document dead-lettered"
    reasons = {r.key.decode(): dict(r.headers)[H_ERROR].decode() for r in out.records[big["dlq"]]}
    for case in cases:
        key = f"case-{case.name}"
        if case.reason is None:
            assert per_topic[key] != big["dlq"], f"{case.name} was dead-lettered"
        else:
            assert reasons[key] == case.reason.value, case.name
    print(
        f"\n{delivery}: {len(keys)} messages ({len(cases)} hostile classes, {len(valid)} "
        f"valid), each in exactly one output topic ({sum(counts.values())} outputs, "
        f"{len(dup)} duplicated ids); {len(reasons)} dead-lettered with their reason codes"
    )


@pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
def test_an_output_the_broker_cannot_take_becomes_one_stub(
    delivery: str,
    kafka_broker: Any,
    stream_triton: TritonServer,
    stream_manifest: Path,
    topics: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
    kafka_client: str,
) -> None:
    """Topics with the broker's default message size (1 MiB): a valid document just under
    ``document.max_bytes`` fits as input, but its scored output does not.  The scorer keeps
    going; that output becomes exactly one dead-letter stub; nothing else is dead-lettered."""
    near = next(
        c for c in hostile_cases("src_a", DocumentSettings().max_bytes) if c.name == "near_limit"
    )
    valid = make_docs(300, SOURCES)
    docs = [*valid[:150], ("case-near_limit", near.raw), *valid[150:]]
    kcat_produce(kafka_broker.bootstrap, topics["docs"], docs, tmp_path)
    env = scorer_env(
        kafka_broker.bootstrap,
        topics,
        stream_manifest,
        stream_triton.grpc_url,
        delivery,
        kafka_client,
    )  # uncompressed: the broker's size check is exact
    scorer = scorer_factory({**env, "MIRA_PRODUCER_COMPRESSION": "none"})
    out = read_all(
        kafka_broker.bootstrap,
        [topics[t] for t in OUT],
        {k for k, _ in docs},
        timeout_s=120,
        read_committed=True,
    )
    scorer.check_alive()
    assert scorer.terminate() == 0
    dead = out.records[topics["dlq"]]
    assert [r.key.decode() for r in dead] == ["case-near_limit"], "the DLQ must not multiply"
    headers = dict(dead[0].headers)
    assert headers[H_ERROR] == b"output_too_large" and dead[0].value in (b"", None)
    counts = out.id_counts()
    assert set(counts) == {k for k, _ in docs} and max(counts.values()) == 1
    assert Counter(kcat_keys(kafka_broker.bootstrap, [topics[t] for t in OUT])) == counts
    print(
        f"\n{delivery}, {kafka_client}: {len(docs)} in, {sum(counts.values())} out, "
        "1 output_too_large stub, 0 duplicates"
    )
