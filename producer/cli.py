"""``mira produce``: send Document v1 records from files or stdin to a Kafka topic."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from mira.command import Context, fail, overrides, settings_options
from mira.progress import bar
from mira.settings import MiraSettings
from producer.pipeline import Summary
from producer.pipeline import produce as produce_records


@contextlib.contextmanager
def _progress() -> Iterator[Any]:
    pbar = bar(desc="produce", unit="doc")
    state = {"bytes": 0, "last": time.monotonic(), "start": time.monotonic()}

    def update(docs: int, nbytes: int) -> None:
        pbar.update(docs)
        state["bytes"] += nbytes
        now = time.monotonic()
        if now - state["last"] > 0.5:
            state["last"] = now
            pbar.set_postfix_str(f"{state['bytes'] / 1e6 / (now - state['start']):.2f} MB/s")

    try:
        yield update
    finally:
        pbar.close()


def _run(
    settings: MiraSettings, inputs: list[str], strict: bool, rejects: IO[str] | None, create: bool
) -> Summary:
    from mira.reader import read_records
    from producer.writer import KafkaWriter, create_topic, producer_kwargs

    client = settings.kafka.client_kwargs()
    p = settings.producer
    if create:
        create_topic(client, settings.topics.input, p.partitions, p.replication)
    options = producer_kwargs(
        compression=p.compression, linger_ms=p.linger_ms, batch_bytes=p.batch_bytes, acks=p.acks
    )
    writer = KafkaWriter(settings.topics.input, client, options)
    records = read_records(inputs, settings.document.max_bytes, sys.stdin.buffer)
    began = time.monotonic()
    try:
        with _progress() as update:
            summary = produce_records(
                records,
                writer,
                settings.document,
                strict=strict,
                rejects=rejects,
                rate=p.rate,
                on_progress=update,
            )
    finally:
        stats = writer.close()
    if writer.fatal is not None:  # refused after the records were queued: the cause, once
        raise writer.fatal
    summary.elapsed_s = time.monotonic() - began
    summary.sent, summary.failed = stats.delivered, stats.failed
    for error in stats.errors:
        click.echo(f"mira produce: delivery failed: {error}", err=True)
    return summary


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--topic", "topics__input", help="Topic to write to [topics.input: mira.docs].")
@settings_options("kafka", ["bootstrap"])
@click.option("--create-topic", is_flag=True, help="Create the topic first (no-op if it exists).")
@settings_options(
    "producer",
    ["partitions", "replication", "compression", "linger_ms", "batch_bytes", "acks", "rate"],
)
@settings_options("document", ["max_bytes"])
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write malformed lines here (one DeadLetter JSON per line).",
)
@click.option("--strict", is_flag=True, help="Stop at the first malformed line (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def produce(
    obj: Context,
    inputs: tuple[str, ...],
    rejects: Path | None,
    strict: bool,
    create_topic: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Send Document v1 records (JSONL, Parquet, a corpus directory, or - for stdin) to Kafka.

    Messages are keyed by document id, values are compact JSON; the producer is idempotent
    (acks=all).  Exit 0 when every valid document was acknowledged, 1 on delivery failures or a
    --strict stop, 2 on bad settings or inputs.
    """
    settings = obj.settings(overrides(options))
    sources = list(inputs) or ["-"]
    for src in sources:
        if src != "-" and not Path(src).exists():
            fail(f"input {src} does not exist")
    out = rejects.open("w", encoding="utf-8") if rejects else None
    try:
        summary = _run(settings, sources, strict, out, create_topic)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    except Exception as exc:  # broker unreachable, auth failures...: one line, exit 1
        fail(f"{type(exc).__name__}: {exc}", 1)
    finally:
        if out is not None:
            out.close()
    _report(summary, as_json)
    if summary.stopped_at is not None:
        fail(f"--strict: stopped at {summary.stopped_at.describe()}", 1)
    if summary.failed:
        fail(f"{summary.failed} documents were not delivered", 1)


def _report(summary: Summary, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "sent": summary.sent,
                    "failed": summary.failed,
                    "rejected": summary.rejected,
                    "bytes": summary.queued_bytes,
                    "elapsed_s": round(summary.elapsed_s, 3),
                }
            )
        )
    else:
        click.echo(summary.line())
