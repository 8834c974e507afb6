"""A real Prometheus scrapes a prometheus_client target and answers queries on it."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from mira.services.common import free_port

pytestmark = pytest.mark.integration


def test_scrape_and_query(prometheus_factory) -> None:
    registry = CollectorRegistry()
    gauge = Gauge("mira_services_test_value", "a value for the scrape test", registry=registry)
    gauge.set(42.5)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        prom = prometheus_factory([f"127.0.0.1:{port}"])
        assert prom.wait_for("mira_services_test_value", timeout_s=30) == 42.5
        assert prom.query('up{job="mira"}') == 1.0
        assert prom.query("no_such_metric_anywhere") is None
    finally:
        server.shutdown()
        thread.join(timeout=5)
