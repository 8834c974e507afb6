"""Build the mira Grafana dashboard JSON from ``panels.yaml`` (rows of timeseries panels).

``deploy/generate.py`` writes the result into the kustomize base, where a ConfigMap labelled
``grafana_dashboard: "1"`` ships it to the Grafana sidecar of kube-prometheus-stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PANELS = Path(__file__).with_name("panels.yaml")
UID = "mira-overview"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
NAMESPACES = "label_values(mira_ready, namespace)"


def _panel(pid: int, spec: dict[str, Any], x: int, y: int) -> dict[str, Any]:
    targets = [
        {
            "datasource": DATASOURCE,
            "expr": q["expr"].strip(),
            "legendFormat": q["legend"],
            "refId": chr(ord("A") + i),
            "range": True,
        }
        for i, q in enumerate(spec["queries"])
    ]
    return {
        "id": pid,
        "type": "timeseries",
        "title": spec["title"],
        "description": spec["description"],
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": spec["unit"]}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom"},
            "tooltip": {"mode": "multi"},
        },
        "targets": targets,
    }


def _variables() -> list[dict[str, Any]]:
    datasource = {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }
    namespace = {
        "name": "namespace",
        "label": "Namespace",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": NAMESPACES, "refId": "ns"},
        "definition": NAMESPACES,
        "refresh": 2,
        "current": {},
        "hide": 0,
    }
    return [datasource, namespace]


def build(spec_path: Path = PANELS) -> dict[str, Any]:
    """The dashboard JSON model (two panels per row of the grid)."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row in spec["rows"]:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row["title"],
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid, y = pid + 1, y + 1
        for i, panel in enumerate(row["panels"]):
            panels.append(_panel(pid, panel, 12 * (i % 2), y + 8 * (i // 2)))
            pid += 1
        y += 8 * ((len(row["panels"]) + 1) // 2)
    return {
        "uid": UID,
        "title": "mira: streaming data selection",
        "tags": ["mira"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "panels": panels,
    }


def queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the dashboard's panels."""
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
