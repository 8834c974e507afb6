"""Pure logic of mira.services: ports, logs, configs, state file, clear errors (no processes)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from mira.services.common import ServiceError, free_port, log_tail, pid_alive, terminate_group
from mira.services.kafka import KafkaBroker, resolve_jars
from mira.services.prometheus import PrometheusServer, scrape_config
from mira.services.state import (
    ServiceRecord,
    ServicesState,
    is_running,
    load_state,
    save_state,
    stop_record,
)
from mira.services.triton import TritonServer, make_backend_dir


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_log_tail(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(path, 2) == "line 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""


def test_kafka_properties_allow_transactions_on_one_broker(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path, extra_config={"num.partitions": "3"})
    props = broker._properties()
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["process.roles"] == "broker,controller"
    assert props["num.partitions"] == "3"
    assert broker.bootstrap == f"127.0.0.1:{broker.port}"
    assert f"127.0.0.1:{broker.port}" in props["listeners"]


def test_kafka_home_without_jars_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    with pytest.raises(ServiceError, match="KAFKA_HOME"):
        resolve_jars()


def test_missing_triton_env_is_a_clear_error(tmp_path: Path) -> None:
    server = TritonServer(tmp_path, tmp_path / "w", env_dir=tmp_path / "nope")
    with pytest.raises(ServiceError, match="make triton-env"):
        server.start()


def test_backend_dir_is_made_of_symlinks(tmp_path: Path) -> None:
    home = tmp_path / "tritonserver"
    (home / "backends/python").mkdir(parents=True)
    (home / "python_backend_stubs/3.11").mkdir(parents=True)
    for rel in (
        "backends/python/libtriton_python.so",
        "backends/python/triton_python_backend_utils.py",
        "python_backend_stubs/3.11/triton_python_backend_stub",
    ):
        (home / rel).write_text("x")
    make_backend_dir(home, tmp_path / "bk")
    made = sorted((tmp_path / "bk/python").iterdir())
    assert [p.name for p in made] == [
        "libtriton_python.so",
        "triton_python_backend_stub",
        "triton_python_backend_utils.py",
    ]
    assert all(p.is_symlink() for p in made)


def test_prometheus_config_and_missing_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = yaml.safe_load(yaml.safe_dump(scrape_config(["127.0.0.1:9400"], "1s")))
    assert cfg["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9400"]
    assert cfg["global"]["scrape_interval"] == "1s"
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("MIRA_PROMETHEUS_BIN", str(tmp_path / "none"))
    server = PrometheusServer(["http://127.0.0.1:1/"], tmp_path / "p")
    assert server.targets == ["127.0.0.1:1"]
    if not Path("/usr/bin/prometheus").exists():
        with pytest.raises(ServiceError, match="make apt"):
            server.start()


def test_state_roundtrip_and_stop_of_a_detached_process(tmp_path: Path) -> None:
    workdir = tmp_path / "svc"
    workdir.mkdir()
    proc = subprocess.Popen(["bash", "-c", "sleep 30; true", str(workdir)], start_new_session=True)
    record = ServiceRecord(
        name="x", pid=proc.pid, workdir=workdir, log=workdir / "x.log", endpoints={"url": "u"}
    )
    deadline = time.monotonic() + 5  # until the child has exec'd bash
    while str(workdir).encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    path = tmp_path / "state.json"
    save_state(ServicesState(services=[record]), path)
    loaded = load_state(path).services[0]
    assert loaded == record and is_running(loaded)
    assert stop_record(loaded) is True
    proc.wait(timeout=5)
    assert not workdir.exists() and not is_running(loaded)
    assert load_state(tmp_path / "none.json").services == []


def test_terminate_group_kills_what_ignores_sigterm() -> None:
    proc = subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 30"], start_new_session=True)
    time.sleep(0.2)  # let bash install its trap
    began = time.monotonic()
    terminate_group(proc.pid, grace_s=0.3)
    assert time.monotonic() - began < 5
    assert not pid_alive(proc.pid)  # killed and reaped


def test_stub_version_follows_the_environment_of_the_wheel(tmp_path: Path) -> None:
    from mira.services.triton import STUB_PYTHON, stub_version

    home = tmp_path / "lib" / "python3.12" / "site-packages" / "pytriton" / "tritonserver"
    assert stub_version(home) == "3.12"
    assert stub_version(tmp_path / "elsewhere") == STUB_PYTHON
