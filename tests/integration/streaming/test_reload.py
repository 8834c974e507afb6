"""Hot reload against a real Triton: a new model version and new thresholds, no restart."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import tritonclient.grpc as grpcclient

from tests.integration.streaming.conftest import (
    SOURCE_GROUPS,
    SOURCES,
    THRESHOLDS,
    load_all,
    scorer_env,
)
from tests.integration.streaming.kafkautil import make_docs, produce, read_all, trickle
from tests.integration.streaming.tiny_repo import add_version, build_tiny_repo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _bump(manifest: Path, group: str, version: int, thresholds: dict[str, float]) -> None:
    data = json.loads(manifest.read_text())
    data["groups"][group]["version"] = version
    data["thresholds"] = thresholds
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(manifest)


def test_new_model_version_and_thresholds_without_restart(
    kafka_broker: Any,
    triton_factory: Any,
    topics: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
) -> None:
    manifest = build_tiny_repo(tmp_path / "repo", SOURCE_GROUPS, THRESHOLDS)
    triton = load_all(triton_factory(manifest.parent), manifest)
    docs = make_docs(4000, SOURCES)
    first, during, second = docs[:1000], docs[1000:3000], docs[3000:]
    scorer = scorer_factory(scorer_env(kafka_broker.bootstrap, topics, manifest, triton.grpc_url))
    produce(kafka_broker.bootstrap, topics["docs"], first)
    scorer.wait_for("mira_documents_accepted_total", 1)

    # keep documents flowing while Triton loads version 2 and the scorer switches to it
    feeder = threading.Thread(target=trickle, args=(kafka_broker.bootstrap, topics["docs"], during))
    feeder.start()
    add_version(manifest.parent, "code", 2, seed=0)
    new_thresholds = {k: v + 0.25 for k, v in THRESHOLDS.items()}
    _bump(manifest, "code", 2, new_thresholds)
    scorer.wait_for("mira_manifest_reloads_total", 1, timeout_s=60)
    feeder.join()
    # the scorer loaded v2 keeping v1 (requests already sent with v1 cannot fail)
    client = grpcclient.InferenceServerClient(triton.grpc_url)
    assert client.is_model_ready("mira_code", "2") and client.is_model_ready("mira_code", "1")
    produce(kafka_broker.bootstrap, topics["docs"], second)

    out = read_all(
        kafka_broker.bootstrap,
        [topics["accepted"], topics["rejected"]],
        {k for k, _ in docs},
        timeout_s=60,
        read_committed=False,
    )
    assert scorer.metric("mira_triton_errors_total") == 0, "a request failed during the switch"
    assert scorer.terminate() == 0
    second_ids = {k for k, _ in second}
    seen: set[str] = set()
    for rec in out.records[topics["accepted"]] + out.records[topics["rejected"]]:
        key, verdict = rec.key.decode(), json.loads(rec.value)["mira"]
        seen.add(key)
        src = json.loads(rec.value)["source"]
        if key in second_ids:
            assert verdict["threshold"] == new_thresholds.get(src, 2.5)
            if verdict["group"] == "code":
                assert verdict["model_version"] == 2
    assert seen == {k for k, _ in docs}
