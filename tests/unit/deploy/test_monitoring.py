"""Alert rules and the Grafana dashboard, checked with the real promtool (Debian package
prometheus, `make apt`): rules parse and their unit tests pass, every alert fires in a test,
every query parses, every metric exists, the generated artifacts are up to date."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mira import metrics
from tests.unit.deploy.conftest import DEPLOY, ROOT, load_module

RULES_DIR = DEPLOY / "prometheus"
RULES = yaml.safe_load((RULES_DIR / "mira-rules.yml").read_text())
ALERTS = [r for g in RULES["groups"] for r in g["rules"] if "alert" in r]
RECORDS = {r["record"]: r["expr"] for g in RULES["groups"] for r in g["rules"] if "record" in r}
# Triton's own metrics: the nv_inference_* names as Triton 2.51 (pytriton 0.7.0) serves them on
# /metrics (seen 2026-11-28), nv_gpu_* from Triton's docs/user_guide/metrics.md (GPU only)
TRITON_METRICS = {
    "nv_inference_request_success",
    "nv_inference_request_failure",
    "nv_inference_count",
    "nv_inference_exec_count",
    "nv_inference_pending_request_count",
    "nv_inference_request_duration_us",
    "nv_inference_queue_duration_us",
    "nv_inference_compute_input_duration_us",
    "nv_inference_compute_infer_duration_us",
    "nv_inference_compute_output_duration_us",
    "nv_gpu_utilization",
    "nv_gpu_memory_total_bytes",
    "nv_gpu_memory_used_bytes",
    "nv_gpu_power_usage",
    "nv_gpu_power_limit",
    "nv_energy_consumption",
}
SUFFIXES = ("", "_total", "_bucket", "_sum", "_count")
METRIC = re.compile(r"(?<![:\w])((?:mira|nv)_[a-z0-9_]+)\b(?!:)")
DASHBOARD = load_module(DEPLOY / "grafana" / "dashboard.py")


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool") or "/usr/bin/promtool"
    assert Path(path).exists(), "promtool not found: `make apt` (Debian package prometheus)"
    return subprocess.run(
        [path, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _defined_metrics() -> set[str]:
    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}
    return {n + s for n in names for s in SUFFIXES} | TRITON_METRICS | {"up"}


def test_rules_pass_promtool_check_and_unit_tests() -> None:
    for args in (("check", "rules", "mira-rules.yml"), ("test", "rules", "mira-rules.test.yml")):
        done = _promtool(*args, cwd=RULES_DIR)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_fires_in_a_unit_test() -> None:
    tests = yaml.safe_load((RULES_DIR / "mira-rules.test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for t in tests
        for case in t.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    missing = {a["alert"] for a in ALERTS} - fired
    assert not missing, f"alerts never fired in mira-rules.test.yml: {sorted(missing)}"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda a: a["alert"])
def test_alert_follows_kube_prometheus_style(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}
    assert re.fullmatch(r"\d+[smh]", alert["for"])
    notes = alert["annotations"]
    assert notes["summary"].strip() and notes["description"].strip()
    url = notes["runbook_url"]
    assert url.startswith("https://") and "#" in url
    anchors = {
        _slug(h)
        for h in re.findall(r"^#+ (.+)$", (ROOT / "docs" / "operations.md").read_text(), flags=re.M)
    }
    assert url.rsplit("#", 1)[1] in anchors, f"no heading for {url} in docs/operations.md"
    expr = alert["expr"]
    for name, body in RECORDS.items():
        expr = expr.replace(name, f"({body})")
    assert "absent(" in expr or "by (namespace" in expr, "aggregate by namespace"


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_rules_and_dashboard_use_only_existing_metrics() -> None:
    exprs = [r["expr"] for g in RULES["groups"] for r in g["rules"]]
    exprs += DASHBOARD.queries(DASHBOARD.build())
    used = {m for e in exprs for m in METRIC.findall(e)} - set(RECORDS)
    assert used <= _defined_metrics(), sorted(used - _defined_metrics())


def test_generated_artifacts_are_up_to_date() -> None:
    generate = load_module(DEPLOY / "generate.py")
    assert generate.main(["--check"]) == 0, "run: python deploy/generate.py"


def test_every_dashboard_query_parses_with_promtool(tmp_path: Path) -> None:
    board = DASHBOARD.build()
    exprs = DASHBOARD.queries(board)
    assert len(exprs) >= 20
    rules = [
        {
            "record": f"dashboard:query_{i}",
            "expr": e.replace("$namespace", "mira").replace("$__rate_interval", "5m"),
        }
        for i, e in enumerate(exprs)
    ]
    assert not any("$" in r["expr"] for r in rules), "unknown template variable"
    (tmp_path / "dashboard.rules.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    done = _promtool("check", "rules", "dashboard.rules.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(rules)} rules found" in done.stdout


def test_dashboard_covers_what_operators_asked_for() -> None:
    board = DASHBOARD.build()
    text = " ".join(DASHBOARD.queries(board))
    for needle in (
        "mira_documents_accepted_total",
        "mira_documents_rejected_total",
        "mira_documents_by_source_total",  # accept share by source
        "mira_triton_endpoint_requests_total",  # the scorers' balancing over Triton replicas
        "mira_end_to_end_latency_seconds_bucket",
        "mira_triton_latency_seconds_bucket",
        "mira_consumer_lag",
        "mira_documents_dead_lettered_total",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_gpu_utilization",
        "histogram_quantile(0.99",
        "histogram_quantile(0.5",
    ):
        assert needle in text, needle
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    names = {v["name"] for v in board["templating"]["list"]}
    assert names == {"datasource", "namespace"}
