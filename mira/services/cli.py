"""``mira services up|down|status``: real Kafka, Triton and Prometheus on loopback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from mira.command import Context, fail
from mira.services.common import Service, ServiceError
from mira.services.secure_local import kafka_exports, triton_exports
from mira.services.state import (
    ServiceRecord,
    ServicesState,
    is_running,
    load_state,
    record_of,
    save_state,
    services_root,
    state_path,
    stop_record,
)
from mira.settings import MiraSettings


@click.group()
def services() -> None:
    """Start, stop and show the local services (Kafka, Triton, Prometheus)."""


def _build(
    kafka: bool,
    triton_repo: Path | None,
    explicit: bool,
    prometheus: bool,
    targets: list[str],
    secure: bool,
) -> list[Service]:
    from mira.services.kafka import KafkaBroker, external_bootstrap
    from mira.services.prometheus import PrometheusServer
    from mira.services.triton import TritonServer

    root = services_root()
    out: list[Service] = []
    external = external_bootstrap()
    pki = None
    if secure:
        from mira.services.kafka_secure import SecureKafkaBroker
        from mira.services.secure_local import local_pki, triton_tls

        shutil.rmtree(root / "tls", ignore_errors=True)
        pki = local_pki(root)
    if kafka and external:
        click.echo(f"kafka: not started, MIRA_KAFKA_BOOTSTRAP={external} is used", err=True)
    elif kafka:
        workdir = root / "kafka"
        out.append(SecureKafkaBroker(workdir, pki=pki) if pki else KafkaBroker(workdir))
    if triton_repo is not None:
        out.append(
            TritonServer(
                triton_repo,
                root / "triton",
                explicit=explicit,
                tls=triton_tls(pki) if pki else None,
            )
        )
    if prometheus:
        out.append(PrometheusServer(targets, root / "prometheus"))
    return out


def _record(service: Service, settings: MiraSettings) -> ServiceRecord:
    """The state record; a secure broker also gets the local user, topics and ACLs now."""
    record = record_of(service)
    if secure_broker(service):
        from mira.services.secure_local import LocalAccess, provision

        t = settings.topics
        outputs = tuple(x for x in (t.accepted, t.rejected, t.dlq) if x)
        access = LocalAccess(
            t.input, outputs, settings.scorer.group_id, settings.producer.partitions
        )
        record.endpoints.update(provision(service, access))  # type: ignore[arg-type]
    return record


def secure_broker(service: Service) -> bool:
    from mira.services.kafka_secure import SecureKafkaBroker

    return isinstance(service, SecureKafkaBroker)


@services.command()
@click.option(
    "--kafka/--no-kafka",
    default=True,
    show_default=True,
    help="Start a Kafka broker (skipped when MIRA_KAFKA_BOOTSTRAP is set).",
)
@click.option(
    "--triton-repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Start Triton serving this model repository.",
)
@click.option(
    "--explicit/--load-all",
    default=False,
    show_default=True,
    help="Triton model control: explicit (load via API) or load every model at start.",
)
@click.option("--prometheus/--no-prometheus", default=True, show_default=True)
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="Prometheus scrape target host:port (repeatable; default: the scorer's "
    "metrics port and Triton's metrics).",
)
@click.option(
    "--secure",
    is_flag=True,
    help="Kafka with SASL_SSL (SCRAM-SHA-512), mutual TLS and ACLs for a local user "
    "`mira`; Triton gRPC over mutual TLS. Passwords stay in files.",
)
@click.pass_obj
def up(
    obj: Context,
    kafka: bool,
    triton_repo: Path | None,
    explicit: bool,
    prometheus: bool,
    targets: tuple[str, ...],
    secure: bool,
) -> None:
    """Start services detached; state goes to the user's cache dir."""
    settings = obj.settings()
    state = load_state()
    live = [r.name for r in state.services if is_running(r)]
    if live:
        fail(f"already up ({', '.join(live)}): run `mira services down` first", 1)
    for record in state.services:
        stop_record(record)
    chosen = list(targets) or [f"127.0.0.1:{settings.scorer.metrics_port}"]
    started = ServicesState()
    try:
        todo = _build(kafka, triton_repo, explicit, prometheus, chosen, secure)
        for service in todo:
            if service.name == "prometheus" and not targets:
                service.targets += [  # type: ignore[attr-defined]
                    s.endpoints()["metrics"].removeprefix("http://").removesuffix("/metrics")
                    for s in todo
                    if s.name == "triton"
                ]
            click.echo(f"starting {service.name} ...", err=True)
            service.detached = True
            service.start()
            started.services.append(_record(service, settings))
            save_state(started)
    except ServiceError as exc:
        for record in started.services:
            stop_record(record)
        save_state(ServicesState())
        fail(str(exc), 1)
    _print_status(started)


@services.command()
@click.option("--keep-dirs", is_flag=True, help="Keep work dirs (logs, data) after stopping.")
def down(keep_dirs: bool) -> None:
    """Stop the services that `up` started and remove their dirs."""
    state = load_state()
    if not state.services:
        click.echo("no services recorded in " + str(state_path()))
        return
    for record in reversed(state.services):
        was = stop_record(record, remove_dir=not keep_dirs)
        click.echo(f"{record.name}: {'stopped' if was else 'was not running'}")
    if not keep_dirs:
        shutil.rmtree(services_root() / "tls", ignore_errors=True)  # `up --secure` certificates
    save_state(ServicesState())


@services.command()
def status() -> None:
    """Show each recorded service, its pid, endpoints and log; exit 1 if one is down."""
    state = load_state()
    if not state.services:
        click.echo("no services recorded in " + str(state_path()))
        sys.exit(1)
    if not _print_status(state):
        sys.exit(1)


def _print_status(state: ServicesState) -> bool:
    all_up = True
    exports: list[str] = []
    for record in state.services:
        alive = is_running(record)
        all_up &= alive
        ends = "  ".join(f"{k}={v}" for k, v in record.endpoints.items())
        click.echo(f"{record.name:<11} {'up' if alive else 'DOWN':<5} pid={record.pid:<8} {ends}")
        click.echo(f"{'':<11} log={record.log}")
        if record.name == "kafka":
            exports += kafka_exports(record.endpoints)
        if record.name == "triton":
            exports += triton_exports(record.endpoints)
    for line in exports:
        click.echo(line)
    return all_up
