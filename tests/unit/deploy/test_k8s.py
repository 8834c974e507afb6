"""The Kubernetes and Prometheus files parse and agree with each other and with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mira.settings import MiraSettings

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "deploy" / "k8s" / "base"


def _docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def test_every_yaml_file_parses() -> None:
    files = sorted((ROOT / "deploy" / "k8s").rglob("*.yaml"))
    files += sorted((ROOT / "deploy" / "prometheus").glob("*.yml"))
    assert len(files) >= 10
    for path in files:
        assert _docs(path), f"{path} is empty"


def test_kustomization_lists_existing_resources() -> None:
    kust = _docs(BASE / "kustomization.yaml")[0]
    for name in kust["resources"]:
        assert (BASE / name).is_file(), name
    for gen in kust["configMapGenerator"]:
        for name in gen["files"]:
            assert (BASE / name).is_file(), name
    kinds = {d["kind"] for name in kust["resources"] for d in _docs(BASE / name)}
    assert {"Deployment", "Service", "ScaledObject", "PodMonitor", "PrometheusRule"} <= kinds


def test_scorer_config_is_valid_settings() -> None:
    MiraSettings.model_validate(_docs(BASE / "config.yaml")[0])


def test_scorer_pod_probes_port_and_grace_match_settings() -> None:
    config = MiraSettings.model_validate(_docs(BASE / "config.yaml")[0])
    pod = _docs(BASE / "scorer-deployment.yaml")[0]["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == config.scorer.metrics_port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["spec"]["terminationGracePeriodSeconds"] > config.scorer.drain_timeout_s
    assert "nvidia.com/gpu" not in str(container.get("resources"))


def test_keda_scales_the_scorer_on_the_consumer_group_lag() -> None:
    config = MiraSettings.model_validate(_docs(BASE / "config.yaml")[0])
    so = _docs(BASE / "scorer-keda.yaml")[0]
    trigger = so["spec"]["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == config.scorer.group_id
    assert trigger["metadata"]["topic"] == config.topics.input
    assert so["spec"]["scaleTargetRef"]["name"] == "mira-scorer"


def test_triton_runs_on_gpu_with_explicit_model_control() -> None:
    pod = _docs(BASE / "triton-deployment.yaml")[0]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].startswith("nvcr.io/nvidia/tritonserver:")
    assert "--model-control-mode=explicit" in container["args"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_prometheus_rule_crd_carries_the_rule_file() -> None:
    rules = _docs(ROOT / "deploy" / "prometheus" / "mira-rules.yml")[0]
    crd = _docs(BASE / "prometheusrule.yaml")[0]
    assert crd["spec"] == rules


def test_alerts_only_use_defined_metrics() -> None:
    from mira import metrics

    defined = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}
    rules = _docs(ROOT / "deploy" / "prometheus" / "mira-rules.yml")[0]
    exprs = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"])
    import re

    used = set(re.findall(r"\bmira_[a-z_]+", exprs))
    # counters are exported with a _total suffix that prometheus-client adds to the name
    assert used <= defined | {f"{n}_total" for n in defined}, used - defined
