"""/metrics, /healthz and /readyz answer from the callbacks on a real local port."""

from __future__ import annotations

import urllib.error
import urllib.request

import mira.metrics  # noqa: F401  (registers the metrics)
from scorer.health import HealthServer


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_endpoints_follow_the_callbacks() -> None:
    state = {"ready": False}
    server = HealthServer(0, lambda: True, lambda: state["ready"], host="127.0.0.1").start()
    try:
        assert _get(server.port, "/healthz")[0] == 200
        assert _get(server.port, "/readyz")[0] == 503
        state["ready"] = True
        assert _get(server.port, "/readyz")[0] == 200
        code, body = _get(server.port, "/metrics")
        assert code == 200 and b"mira_documents_in_total" in body
        assert _get(server.port, "/nope")[0] == 404
    finally:
        server.stop()
