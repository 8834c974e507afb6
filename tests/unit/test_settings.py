"""Settings precedence (defaults < file < env < CLI), one-line errors naming field and source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mira.cli import main
from mira.settings import MiraSettings, SettingsError, TritonSettings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("MIRA_"):
            monkeypatch.delenv(key)


def _yaml(tmp_path: Path, text: str, name: str = "mira.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings()
    assert s.kafka.bootstrap == "127.0.0.1:9092" and s.producer.linger_ms == 20


def _triple(s: MiraSettings) -> tuple[str, str, int]:
    return s.kafka.bootstrap, s.kafka.client_id, s.producer.linger_ms


def test_precedence_file_env_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _yaml(
        tmp_path, "kafka:\n  bootstrap: file:1\n  client_id: from-file\nproducer:\n  linger_ms: 5\n"
    )
    s = load_settings(cfg)
    assert _triple(s) == ("file:1", "from-file", 5)
    monkeypatch.setenv("MIRA_KAFKA_BOOTSTRAP", "env:2")
    monkeypatch.setenv("MIRA_PRODUCER_LINGER_MS", "7")
    s = load_settings(cfg)
    assert _triple(s) == ("env:2", "from-file", 7)
    s = load_settings(cfg, {"kafka": {"bootstrap": "cli:3", "client_id": None}})
    assert _triple(s) == ("cli:3", "from-file", 7)


def test_toml_file_and_mira_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _yaml(tmp_path, '[topics]\ninput = "from.toml"\n', "mira.toml")
    assert load_settings(cfg).topics.input == "from.toml"
    monkeypatch.setenv("MIRA_CONFIG", str(cfg))
    assert load_settings().topics.input == "from.toml"


def _error(*args: object, **kw: object) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings(*args, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_invalid_value_names_field_and_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _yaml(tmp_path, "producer:\n  linger_ms: -1\n")
    msg = _error(cfg)
    assert "producer.linger_ms" in msg and f"config file {cfg}" in msg
    monkeypatch.setenv("MIRA_SCORER_BATCH_SIZE", "zero")
    msg = _error(None)
    assert "scorer.batch_size" in msg and "env MIRA_SCORER_BATCH_SIZE" in msg
    monkeypatch.delenv("MIRA_SCORER_BATCH_SIZE")
    msg = _error(None, {"triton": {"max_in_flight": 0}})
    assert "triton.max_in_flight" in msg and "CLI flag --max-in-flight" in msg


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    assert "is not valid" in _error(_yaml(tmp_path, "kafka: [1, 2\n"))
    assert "mapping at the top level" in _error(_yaml(tmp_path, "- 1\n", "list.yaml"))
    assert "cannot read config file" in _error(tmp_path / "absent.yaml")


def test_secrets_are_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRA_KAFKA_SASL_PASSWORD", "hunter2")
    s = load_settings()
    assert s.kafka.sasl_password is not None
    assert s.kafka.sasl_password.get_secret_value() == "hunter2"
    for shown in (repr(s), str(s), s.model_dump_json(), repr(s.kafka)):
        assert "hunter2" not in shown
    monkeypatch.delenv("MIRA_KAFKA_SASL_PASSWORD")
    cfg = _yaml(tmp_path, "kafka:\n  sasl_password: [hunter3]\n")
    msg = _error(cfg)
    assert "kafka.sasl_password" in msg and "hunter3" not in msg and "***" in msg


def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    for text in ("producer:\n  linger_ms: -1\n", "kafka: [1, 2\n"):
        cfg = _yaml(tmp_path, text, "bad.yaml")
        res = runner.invoke(main, ["--config", str(cfg), "schema"])
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mira: error:") and res.stdout == ""


def test_triton_grpc_url_is_a_list_of_host_port_targets() -> None:
    ts = TritonSettings(grpc_url="mira-triton-headless:8001, 127.0.0.1:9001,[::1]:9002")
    assert ts.grpc_targets() == [("mira-triton-headless", 8001), ("127.0.0.1", 9001), ("::1", 9002)]
    for bad in ("triton", "host:", ":8001", "a:b", "a:8001,,b:1", "a:70000"):
        with pytest.raises(ValueError, match="not host:port"):
            TritonSettings(grpc_url=bad)
