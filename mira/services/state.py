"""State of ``mira services up`` (pids, ports, dirs), so ``down``/``status`` work anywhere."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mira.services.common import Service, cache_dir, pid_alive, terminate_group

log = logging.getLogger(__name__)


class ServiceRecord(BaseModel):
    """One detached service as ``up`` left it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    pid: int
    workdir: Path
    log: Path
    endpoints: dict[str, str]
    shm_prefix: str | None = None


class ServicesState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: list[ServiceRecord] = Field(default_factory=list)


def state_path() -> Path:
    return Path(os.environ.get("MIRA_SERVICES_STATE") or cache_dir() / "services" / "state.json")


def services_root() -> Path:
    """Parent of the work dirs of detached services (next to the state file)."""
    return state_path().parent


def load_state(path: Path | None = None) -> ServicesState:
    path = path or state_path()
    if not path.exists():
        return ServicesState()
    return ServicesState.model_validate_json(path.read_text(encoding="utf-8"))


def save_state(state: ServicesState, path: Path | None = None) -> None:
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)


def record_of(service: Service) -> ServiceRecord:
    assert service.pid is not None, "record_of() needs a started service"
    return ServiceRecord(
        name=service.name,
        pid=service.pid,
        workdir=service.workdir,
        log=service.log_path,
        endpoints=service.endpoints(),
        shm_prefix=getattr(service, "shm_prefix", None),
    )


def is_running(record: ServiceRecord) -> bool:
    """Alive AND still our process (its command line names its work dir): pids get reused."""
    if not pid_alive(record.pid):
        return False
    try:
        cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the pid
    return str(record.workdir).encode() in cmdline


def stop_record(record: ServiceRecord, remove_dir: bool = True) -> bool:
    """Stop one detached service and clean its dir and shm; True if it was running."""
    running = is_running(record)
    if running:
        terminate_group(record.pid)
    if record.shm_prefix:
        for path in Path("/dev/shm").glob(f"{record.shm_prefix}*"):
            path.unlink(missing_ok=True)
    if remove_dir:
        shutil.rmtree(record.workdir, ignore_errors=True)
    return running
