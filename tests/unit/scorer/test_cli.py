"""``mira score`` start-up checks."""

from __future__ import annotations

import logging

import pytest

from scorer import cli


def test_native_crc_is_installed() -> None:
    """The stream extra brings the crc32c package: kafka-python must be using it here."""
    assert not cli.pure_python_crc()


def test_warns_on_pure_python_crc(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from kafka.record import util

    monkeypatch.setattr(util, "crc32c_c", None)
    with caplog.at_level(logging.WARNING, logger="scorer.cli"):
        cli.warn_if_pure_python_crc()
    assert "CRC-32C in pure Python" in caplog.text


def test_silent_with_native_crc(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="scorer.cli"):
        cli.warn_if_pure_python_crc()
    assert caplog.text == ""
