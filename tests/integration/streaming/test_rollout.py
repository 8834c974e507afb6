"""A model rollout across TWO real tritonserver processes behind ONE ``mira score``.

The repository's configs are the exporter's (version policy latest 2, model warmup).  While
documents stream, version 2 of one model is published and the manifest names it: the scorer must
load it on both Tritons, switch only when both report it ready, lose and dead-letter nothing and
see no failed request, and spread its requests over both servers before and after the switch.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import tritonclient.grpc as grpcclient

from discovery.export.triton_config import config_pbtxt, with_rollout
from mira.services.triton import TritonServer
from tests.integration.streaming.conftest import (
    SOURCE_GROUPS,
    SOURCES,
    THRESHOLDS,
    load_all,
    scorer_env,
)
from tests.integration.streaming.harness import scrape
from tests.integration.streaming.kafkautil import make_docs, produce, read_all, trickle
from tests.integration.streaming.tiny_repo import K, add_version, build_tiny_repo, set_version

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_LENGTH = 64


def _exporter_configs(manifest: Path) -> None:
    """Replace the tiny repository's configs by what ``mira export`` writes (python flavour)."""
    for group in sorted(set(SOURCE_GROUPS.values())):
        name = f"mira_{group}"
        text = with_rollout(config_pbtxt(name, K, "python"), 2, MAX_LENGTH)
        (manifest.parent / name / "config.pbtxt").write_text(text)


def _successes(server: TritonServer, model: str) -> dict[str, float]:
    """Triton's own count of successful requests per version of ``model``."""
    return {
        labels["version"]: value
        for labels, value in scrape(server.metrics_url, "nv_inference_request_success")
        if labels.get("model") == model
    }


def test_rollout_over_two_tritons_while_documents_stream(
    kafka_broker: Any,
    triton_factory: Any,
    topics: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    manifest = build_tiny_repo(tmp_path / "repo", SOURCE_GROUPS, THRESHOLDS, MAX_LENGTH)
    _exporter_configs(manifest)
    tritons = [load_all(triton_factory(manifest.parent), manifest) for _ in range(2)]
    urls = ",".join(t.grpc_url for t in tritons)
    docs = make_docs(3000, SOURCES)
    first, during, after = docs[:800], docs[800:2200], docs[2200:]
    scorer = scorer_factory(
        {
            **scorer_env(kafka_broker.bootstrap, topics, manifest, urls),
            "MIRA_TRITON_ENDPOINT_REFRESH_S": "1",
        }
    )
    produce(kafka_broker.bootstrap, topics["docs"], first)
    scorer.wait_for("mira_documents_accepted_total", 1)

    feeder = threading.Thread(
        target=trickle, args=(kafka_broker.bootstrap, topics["docs"], during, 50, 0.2)
    )
    feeder.start()
    time.sleep(0.5)  # documents are flowing when version 2 appears
    add_version(manifest.parent, "code", 2, seed=0)
    set_version(manifest, "code", 2)
    switch_began = time.monotonic()
    scorer.wait_for("mira_manifest_reloads_total", 1, timeout_s=60)
    switch_s = time.monotonic() - switch_began
    # Triton counts warmup samples as requests: count what each replica serves from now on
    v2_at_switch = [_successes(t, "mira_code").get("2", 0.0) for t in tritons]
    feeder.join()
    produce(kafka_broker.bootstrap, topics["docs"], after)
    out_topics = [topics["accepted"], topics["rejected"], topics["dlq"]]
    out = read_all(
        kafka_broker.bootstrap, out_topics, {k for k, _ in docs}, timeout_s=90, read_committed=False
    )

    per_endpoint = {
        labels["endpoint"]: value
        for labels, value in scorer.samples("mira_triton_endpoint_requests_total")
        if labels["result"] == "ok"
    }
    failed = scorer.metric("mira_triton_errors_total")
    failed_reloads = sum(
        v
        for labels, v in scorer.samples("mira_manifest_reloads_total")
        if labels["result"] == "failed"
    )
    assert scorer.terminate() == 0

    # zero failed requests: nothing dead-lettered, every id exactly once, no request failed
    assert not out.records[topics["dlq"]], "a document was dead-lettered during the rollout"
    counts = out.id_counts()
    assert set(counts) == {k for k, _ in docs} and max(counts.values()) == 1
    assert failed == 0, "an inference request failed during the rollout"
    assert failed_reloads == 0

    # the switch happened while documents streamed: v1 before, v2 for everything after
    versions: dict[str, set[int]] = {"during": set(), "after": set()}
    after_ids, during_ids = {k for k, _ in after}, {k for k, _ in during}
    for rec in out.records[topics["accepted"]] + out.records[topics["rejected"]]:
        verdict, key = json.loads(rec.value)["mira"], rec.key.decode()
        if verdict["group"] != "code":
            continue
        if key in after_ids:
            versions["after"].add(verdict["model_version"])
        elif key in during_ids:
            versions["during"].add(verdict["model_version"])
    assert versions["after"] == {2} and 1 in versions["during"]

    # both replicas serve the new version (and keep the previous one loaded)
    for triton in tritons:
        client = grpcclient.InferenceServerClient(triton.grpc_url)
        try:
            assert client.is_model_ready("mira_code", "2"), triton.grpc_url
            assert client.is_model_ready("mira_code", "1"), "version policy: previous kept"
        finally:
            client.close()
    served_v2 = [
        _successes(t, "mira_code").get("2", 0.0) - before
        for t, before in zip(tritons, v2_at_switch, strict=True)
    ]
    assert min(served_v2) >= 0.25 * sum(served_v2) > 0, f"version 2 not spread: {served_v2}"

    # requests were spread over both replicas
    assert set(per_endpoint) == {t.grpc_url for t in tritons}
    total = sum(per_endpoint.values())
    shares = {k: round(v / total, 3) for k, v in per_endpoint.items()}
    assert min(shares.values()) >= 0.3, f"unbalanced: {per_endpoint}"
    print(
        f"\nrollout over 2 Tritons: switch {switch_s:.1f} s after the manifest changed; "
        f"requests per endpoint {per_endpoint} (shares {shares}); version 2 requests per "
        f"replica after the switch (Triton's count) {served_v2}; "
        f"test {time.monotonic() - began:.0f} s"
    )
