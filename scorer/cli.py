"""``mira score``: the streaming scorer (Kafka in, Triton for inference, Kafka out)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

import click

from mira.command import Context, fail, overrides, settings_options
from mira.settings import MiraSettings

log = logging.getLogger(__name__)


@click.command("score")
@settings_options("kafka", ["bootstrap"])
@settings_options("topics", ["input"], dest="topics")
@settings_options(
    "scorer",
    [
        "group_id",
        "manifest",
        "delivery",
        "batch_size",
        "max_wait_ms",
        "tokenizer_workers",
        "unknown_source",
        "metrics_port",
    ],
)
@settings_options("triton", ["grpc_url", "max_in_flight"])
@click.pass_obj
def score(obj: Context, **options: Any) -> None:
    """Score documents from Kafka with the students on Triton and route them to topics.

    Runs until SIGTERM/SIGINT, then drains (finishes in-flight batches, commits) and exits 0.
    """
    sys.exit(run_scorer(obj.settings(overrides(options))))


def run_scorer(settings: MiraSettings) -> int:
    from mira.repository import ManifestError, load_manifest
    from scorer.app import ScorerApp
    from scorer.delivery import FatalDeliveryError

    # kafka-python's network thread warns whenever the GIL delays it by >100 ms: noise here
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)
    if settings.kafka.client == "kafka-python":
        warn_if_pure_python_crc()
    # one native tokenizer thread per worker (the tokenize thread or each worker process):
    # replicas and tokenizer_workers are the unit of parallelism, not rayon threads per call
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    path = settings.scorer.manifest
    try:
        manifest, digest = load_manifest(path)
    except ManifestError as exc:
        fail(str(exc))
    app = ScorerApp(settings, manifest, digest)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.request_stop)
        return await app.run()

    try:
        return asyncio.run(main())
    except ManifestError as exc:  # e.g. a model file that does not match the manifest
        fail(str(exc))
    except FatalDeliveryError as exc:  # another instance owns the transactional id
        fail(str(exc), code=1)
    except Exception as exc:  # fatal: one clear line, the traceback in the log
        log.exception("scorer failed")
        fail(f"scorer failed: {type(exc).__name__}: {exc}", code=1)
    return 1


def pure_python_crc() -> bool:
    """True when kafka-python checks record CRC-32C in pure Python (no ``crc32c`` package)."""
    from kafka.record import util

    return getattr(util, "crc32c_c", None) is None


def warn_if_pure_python_crc() -> None:
    if pure_python_crc():
        log.warning(
            "kafka-python computes CRC-32C in pure Python (the crc32c package is "
            "missing): that costs about half of the scorer's CPU; install "
            "'kafka-python[crc32c]' (the image and the stream extra have it)"
        )
