"""``mira score``: the streaming scorer (Kafka in, Triton for inference, Kafka out)."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import click

from mira.cli import Context, fail
from mira.settings import MiraSettings

log = logging.getLogger(__name__)


@click.command("score")
@click.option("--bootstrap", help="Kafka bootstrap servers (kafka.bootstrap).")
@click.option("--input-topic", help="Input topic (topics.input).")
@click.option("--group-id", help="Consumer group (scorer.group_id).")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="Model repository manifest (scorer.manifest).")
@click.option("--triton-url", help="Triton gRPC address host:port (triton.grpc_url).")
@click.option("--delivery", type=click.Choice(["at-least-once", "exactly-once"]))
@click.option("--batch-size", type=int, help="Documents per inference request.")
@click.option("--max-wait-ms", type=int, help="Longest a partial batch waits.")
@click.option("--max-in-flight", type=int, help="Concurrent Triton requests.")
@click.option("--tokenizer-workers", type=int, help="Tokenizer processes (1 = a thread).")
@click.option("--unknown-source", type=click.Choice(["fallback", "dead-letter"]))
@click.option("--metrics-port", type=int, help="Port of /metrics, /healthz, /readyz.")
@click.pass_obj
def score(obj: Context, bootstrap: str | None, input_topic: str | None, group_id: str | None,
          manifest: Path | None, triton_url: str | None, delivery: str | None,
          batch_size: int | None, max_wait_ms: int | None, max_in_flight: int | None,
          tokenizer_workers: int | None, unknown_source: str | None,
          metrics_port: int | None) -> None:
    """Score documents from Kafka with the students on Triton and route them to topics.

    Runs until SIGTERM/SIGINT, then drains (finishes in-flight batches, commits) and exits 0.
    """
    settings = obj.settings({
        "kafka": {"bootstrap": bootstrap},
        "topics": {"input": input_topic},
        "triton": {"grpc_url": triton_url, "max_in_flight": max_in_flight},
        "scorer": {"group_id": group_id, "manifest": manifest, "delivery": delivery,
                   "batch_size": batch_size, "max_wait_ms": max_wait_ms,
                   "tokenizer_workers": tokenizer_workers, "unknown_source": unknown_source,
                   "metrics_port": metrics_port},
    })
    sys.exit(run_scorer(settings))


def build_options(settings: MiraSettings) -> Any:
    """Plain library options from settings (the only place the scorer reads settings)."""
    from scorer.app import AppOptions
    from scorer.kafka_io import KafkaOptions
    from scorer.messages import OutputTopics

    s, p = settings.scorer, settings.producer
    txid = s.transactional_id or f"{s.group_id}-{socket.gethostname()}"
    kafka = KafkaOptions(
        client=settings.kafka.client_kwargs(), input_topic=settings.topics.input,
        group_id=s.group_id, delivery=s.delivery, compression=p.compression,
        linger_ms=p.linger_ms, batch_bytes=p.batch_bytes, acks=p.acks, transactional_id=txid,
        instance_id=s.instance_id, session_timeout_ms=s.session_timeout_ms,
    )
    # an empty rejected topic (MIRA_TOPICS_REJECTED='') disables it, like None
    topics = OutputTopics(settings.topics.accepted, settings.topics.rejected or None,
                          settings.topics.dlq)
    return AppOptions(
        kafka=kafka, topics=topics, manifest_path=s.manifest,
        triton_url=settings.triton.grpc_url, max_in_flight=settings.triton.max_in_flight,
        triton_timeout_s=settings.triton.timeout_s, batch_size=s.batch_size,
        max_wait_ms=s.max_wait_ms, max_bytes=s.max_bytes, unknown_source=s.unknown_source,
        tokenizer_workers=s.tokenizer_workers, metrics_port=s.metrics_port,
        drain_timeout_s=s.drain_timeout_s, max_pending=s.max_pending,
        commit_interval_ms=s.commit_interval_ms, reload_interval_s=s.reload_interval_s,
        triton_tls=settings.triton.grpc_tls_kwargs(),
    )


def run_scorer(settings: MiraSettings) -> int:
    from scorer.app import ScorerApp
    from scorer.reload import ManifestError, load_manifest

    # kafka-python's network thread warns whenever the GIL delays it by >100 ms: noise here
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)
    opts = build_options(settings)
    try:
        manifest, digest = load_manifest(opts.manifest_path)
    except ManifestError as exc:
        fail(str(exc))
    app = ScorerApp(opts, manifest, digest)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.request_stop)
        return await app.run()

    try:
        return asyncio.run(main())
    except Exception as exc:
        log.exception("scorer failed")
        fail(f"scorer failed: {type(exc).__name__}: {exc}", code=1)
    return 1
