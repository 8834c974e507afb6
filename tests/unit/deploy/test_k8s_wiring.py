"""The rendered objects fit together: references resolve, kube-prometheus-stack selects the
monitoring objects, the model jobs are suspended templates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.deploy.conftest import OVERLAYS, find, pod_spec
from tests.unit.deploy.manifests import workloads


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_resolve(rendered: Any, values: Any, overlay: str) -> None:
    objs = rendered[overlay]
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    external = {("Secret", values[overlay]["kafka"].get("credentialsSecret"))}
    external |= {("Secret", name) for name in values[overlay].get("triton", {}).values()}
    for obj in workloads(objs):
        pod = pod_spec(obj)
        assert pod is not None
        for vol in pod.get("volumes", []):
            if "persistentVolumeClaim" in vol:
                assert ("PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"]) in names
            if "configMap" in vol:
                assert ("ConfigMap", vol["configMap"]["name"]) in names
            if "secret" in vol:
                assert ("Secret", vol["secret"]["secretName"]) in names | external
        for c in pod["containers"]:
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ("Secret", ref["name"]) in names | external
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in pod.get("volumes", [])}
    sts = find(objs, "StatefulSet", "mira-scorer")
    assert find(objs, "Service", sts["spec"]["serviceName"])["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_monitoring_objects_are_selected_by_kube_prometheus_stack(
    rendered: Any, values: Any, overlay: str
) -> None:
    objs, release = rendered[overlay], values[overlay]["monitoring"]["release"]
    for kind in ("PodMonitor", "ServiceMonitor", "PrometheusRule"):
        for obj in (o for o in objs if o["kind"] == kind):
            assert obj["metadata"]["labels"]["release"] == release, obj["metadata"]["name"]
    for kind, job in (("PodMonitor", "mira-scorer"), ("ServiceMonitor", "mira-triton")):
        obj = find(objs, kind, job)
        assert obj["spec"]["jobLabel"] == "app.kubernetes.io/name"
    board = find(objs, "ConfigMap", "mira-grafana-dashboard")
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_model_jobs_are_suspended_templates(rendered: Any, overlay: str) -> None:
    jobs = [o for o in rendered[overlay] if o["kind"] == "CronJob"]
    assert {j["metadata"]["name"] for j in jobs} == {
        "mira-shell",
        "mira-discover",
        "mira-export",
        "mira-rollback",
    }
    assert all(j["spec"]["suspend"] is True for j in jobs)
