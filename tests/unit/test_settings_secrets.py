"""Secrets: SecretStr only, ``*_FILE`` variables for secret mounts, never echoed in errors;
Triton TLS settings become the gRPC client's keyword arguments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mira.settings import MiraSettings, SettingsError, TritonSettings, load_settings

SECRET = "s3cr3t-value-for-tests"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("MIRA_"):
            monkeypatch.delenv(key)


def test_secret_from_a_file_drops_one_trailing_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "password"
    path.write_text(SECRET + "\n")
    monkeypatch.setenv("MIRA_KAFKA_SASL_PASSWORD_FILE", str(path))
    monkeypatch.setenv("MIRA_TEACHER_API_KEY_FILE", str(path))
    for s in (load_settings(), MiraSettings()):
        assert s.kafka.sasl_password is not None and s.teacher.api_key is not None
        assert s.kafka.sasl_password.get_secret_value() == SECRET
        assert s.teacher.api_key.get_secret_value() == SECRET
        assert SECRET not in repr(s) and SECRET not in s.model_dump_json()


@pytest.mark.parametrize(
    ("content", "set_env", "message"),
    [
        (None, False, "cannot read MIRA_KAFKA_SASL_PASSWORD_FILE="),
        ("", False, "is empty"),
        (SECRET, True, "keep one"),
    ],
)
def test_secret_file_errors_are_one_line_without_the_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    set_env: bool,
    message: str,
) -> None:
    path = tmp_path / "password"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("MIRA_KAFKA_SASL_PASSWORD_FILE", str(path))
    if set_env:
        monkeypatch.setenv("MIRA_KAFKA_SASL_PASSWORD", SECRET)
    with pytest.raises(SettingsError, match=message) as err:
        load_settings()
    assert SECRET not in str(err.value) and "\n" not in str(err.value)


def test_only_secret_fields_take_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x"
    path.write_text("broker:9092")
    monkeypatch.setenv("MIRA_KAFKA_BOOTSTRAP_FILE", str(path))
    with pytest.raises(SettingsError, match="bootstrap_file"):
        load_settings()


@pytest.mark.parametrize(
    "env",
    [
        {"MIRA_KAFKA_SASL_PASSWORDD": SECRET},  # misspelt: an unknown field
        {"MIRA_TEACHER_API_KEYS": SECRET},
    ],
)
def test_invalid_values_that_may_be_secrets_are_masked(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=r"= \*\*\*") as err:
        load_settings()
    assert SECRET not in str(err.value)


def test_a_whole_section_is_never_echoed(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"kafka: [{SECRET}]\n")
    with pytest.raises(SettingsError) as err:
        load_settings(cfg)
    assert SECRET not in str(err.value)


def test_triton_tls_kwargs(tmp_path: Path) -> None:
    assert TritonSettings().grpc_tls_kwargs() == {}
    ca, cert, key = tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "c.key"
    assert TritonSettings(ssl=True, ssl_root_cert=ca).grpc_tls_kwargs() == {
        "ssl": True,
        "root_certificates": str(ca),
    }
    mutual = TritonSettings(ssl=True, ssl_root_cert=ca, ssl_cert=cert, ssl_key=key)
    assert mutual.grpc_tls_kwargs() == {
        "ssl": True,
        "root_certificates": str(ca),
        "certificate_chain": str(cert),
        "private_key": str(key),
    }
    with pytest.raises(ValueError, match="go together"):
        TritonSettings(ssl=True, ssl_cert=cert)
