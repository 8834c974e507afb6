"""Addresses of Triton replicas: formatting, IP literals, resolving a host name."""

from __future__ import annotations

import asyncio

from mira.engine.endpoints import address, is_ip, resolve


def test_addresses_and_ip_literals() -> None:
    assert address("::1", 9002) == "[::1]:9002" and address("10.0.0.1", 1) == "10.0.0.1:1"
    assert is_ip("::1") and is_ip("10.1.2.3") and not is_ip("mira-triton-headless")


def test_real_resolver_resolves_loopback() -> None:
    assert asyncio.run(resolve("127.0.0.1", 8001)) == ["127.0.0.1:8001"]
