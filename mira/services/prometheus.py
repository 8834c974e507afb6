"""A real Prometheus (Debian's ``/usr/bin/prometheus``) scraping given targets every second."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import yaml

from mira.services.common import Service, ServiceError, free_port

log = logging.getLogger(__name__)


def find_prometheus() -> str:
    """``$MIRA_PROMETHEUS_BIN``, ``prometheus`` on PATH or ``/usr/bin/prometheus``."""
    explicit = os.environ.get("MIRA_PROMETHEUS_BIN")
    for candidate in (explicit, shutil.which("prometheus"), "/usr/bin/prometheus"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ServiceError(
        "prometheus binary not found: run `make apt` (Debian package prometheus) "
        "or set MIRA_PROMETHEUS_BIN"
    )


def scrape_config(
    targets: Sequence[str], interval: str = "1s", rule_files: Sequence[Path] = ()
) -> dict[str, object]:
    """The prometheus.yml content for ``host:port`` targets (job ``mira``)."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": "mira",
                "scrape_interval": interval,
                "scrape_timeout": interval,
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }


class PrometheusServer(Service):
    """Prometheus on ``127.0.0.1:PORT`` with a throwaway TSDB; ``.query(expr)`` returns a float."""

    name = "prometheus"

    def __init__(
        self,
        targets: Sequence[str],
        workdir: Path | None = None,
        *,
        scrape_interval: str = "1s",
        rule_files: Sequence[Path] = (),
        ready_timeout_s: float = 60.0,
    ):
        super().__init__(workdir, ready_timeout_s)
        self.targets = [t.removeprefix("http://").rstrip("/") for t in targets]
        self.scrape_interval = scrape_interval
        self.rule_files = [Path(p).resolve() for p in rule_files]
        self.port = free_port()
        self.config_path = self.workdir / "prometheus.yml"
        self._binary = ""

    def _pick_ports(self) -> None:
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self) -> dict[str, str]:
        return {"url": self.url}

    def _prepare(self) -> None:
        self._binary = find_prometheus()
        cfg = scrape_config(self.targets, self.scrape_interval, self.rule_files)
        self.config_path.write_text(yaml.safe_dump(cfg, sort_keys=False))

    def _command(self) -> list[str]:
        return [
            self._binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1d",
            "--web.enable-lifecycle",
            "--log.level=info",
        ]

    def _is_ready(self) -> bool:
        return self._get("/-/ready", timeout=1.0) is not None

    def _get(self, path: str, timeout: float = 10.0) -> bytes | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
                return bytes(resp.read())
        except (urllib.error.URLError, OSError, TimeoutError):
            return None

    def query(self, expr: str) -> float | None:
        """Evaluate an instant query; the first sample's value, or None when the result is empty."""
        body = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if body is None:
            raise ServiceError(f"Prometheus at {self.url} did not answer the query {expr!r}")
        data = json.loads(body)
        if data.get("status") != "success":
            raise ServiceError(f"query {expr!r} failed: {data.get('error')}")
        result = data["data"]["result"]
        if data["data"]["resultType"] == "scalar":
            return float(result[1])
        if not result:
            return None
        return float(result[0]["value"][1])

    def wait_for(self, expr: str, timeout_s: float = 30.0) -> float:
        """Poll ``query(expr)`` until it returns a number (not NaN); ServiceError on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.query(expr)
            if value is not None and not math.isnan(value):
                return value
            time.sleep(0.25)
        raise ServiceError(
            f"no value for {expr!r} after {timeout_s:.0f} s (targets "
            f"{self.targets}); see {self.url}/targets"
        )
