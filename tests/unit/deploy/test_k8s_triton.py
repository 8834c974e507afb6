"""Triton as rendered: hardened, sharing the model repository, ready through a rollout, mutual TLS
and a restricted HTTP API in prod."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from tests.unit.deploy.conftest import OVERLAYS, container_env, find
from tests.unit.deploy.manifests import scorer_settings, scorer_sts, secret_file, selects


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_is_hardened_and_shares_the_repository(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    settings = scorer_settings(objs)
    dep = find(objs, "Deployment", "mira-triton")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"].startswith("nvcr.io/nvidia/tritonserver:")
    args = dict(a.split("=", 1) for a in c["args"])
    assert args["--model-control-mode"] == "explicit"
    repo = PurePosixPath(args["--model-repository"])
    assert PurePosixPath(str(settings.scorer.manifest)).parent == repo
    assert c["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    startup_s = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
    assert startup_s >= 300, "model loading needs minutes"
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    vols = {v["name"]: v for v in pod["volumes"]}
    shm = next(m for m in c["volumeMounts"] if m["mountPath"] == "/dev/shm")
    assert vols[shm["name"]]["emptyDir"]["medium"] == "Memory"
    models = next(m for m in c["volumeMounts"] if repo.is_relative_to(m["mountPath"]))
    assert models["readOnly"] is True
    claim = vols[models["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = find(objs, "PersistentVolumeClaim", claim)
    if overlay == "prod":
        assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
        assert dep["spec"]["replicas"] > 1
    export = find(objs, "CronJob", "mira-export")["spec"]["jobTemplate"]["spec"]["template"]
    script = export["spec"]["containers"][0]["args"][0]
    assert f"--repo {repo}" in script and "repo_history.py snapshot" in script
    monitor = find(objs, "ServiceMonitor", "mira-triton")
    svc = next(
        o
        for o in objs
        if o["kind"] == "Service" and selects(monitor["spec"]["selector"], o["metadata"]["labels"])
    )
    assert svc["spec"]["clusterIP"] == "None"
    assert "metrics" in {p["name"] for p in svc["spec"]["ports"]}
    assert {p["containerPort"] for p in c["ports"]} == {8000, 8001, 8002}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_tritons_readiness_survives_a_rollout(rendered: Any, overlay: str) -> None:
    """Scorers load new versions on every replica at once: with strict readiness they would all
    leave the Service while loading; the scorer checks each version per replica instead."""
    c = find(rendered[overlay], "Deployment", "mira-triton")["spec"]["template"]["spec"]
    args = dict(a.split("=", 1) for a in c["containers"][0]["args"])
    assert args["--strict-readiness"] == "false" and args["--exit-on-error"] == "true"
    assert args["--load-model"] == "*"
    settings = scorer_settings(rendered[overlay])
    assert settings.triton.endpoint_refresh_s <= 10
    assert settings.triton.grpc_targets() == [("mira-triton-headless", 8001)]


def test_prod_triton_speaks_mutual_tls_and_restricts_http(rendered: Any, values: Any) -> None:
    objs, val = rendered["prod"], values["prod"]["triton"]
    dep = find(objs, "Deployment", "mira-triton")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = dict(a.split("=", 1) for a in c["args"])
    assert args["--grpc-use-ssl"] == args["--grpc-use-ssl-mutual"] == "true"
    for flag, key in (
        ("--grpc-server-cert", "tls.crt"),
        ("--grpc-server-key", "tls.key"),
        ("--grpc-root-cert", "ca.crt"),
    ):
        assert secret_file(pod, c, args[flag]) == (val["serverTlsSecret"], key)
    apis, _, header = args["--http-restricted-api"].partition(":")
    assert {"model-repository", "model-config"} <= set(apis.split(","))
    assert "health" not in apis.split(","), "the kubelet probes /v2/health/*"
    key, _, value = header.partition("=")
    ref = container_env(c)[value.strip("$()")]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == (val["adminSecret"], "http-admin-key")
    settings = scorer_settings(objs)
    assert settings.triton.ssl
    sts, scorer = scorer_sts(objs)
    spod = sts["spec"]["template"]["spec"]
    for path, key in (
        (settings.triton.ssl_root_cert, "ca.crt"),
        (settings.triton.ssl_cert, "tls.crt"),
        (settings.triton.ssl_key, "tls.key"),
    ):
        assert secret_file(spod, scorer, str(path)) == (val["clientTlsSecret"], key)
    dev = find(rendered["dev"], "Deployment", "mira-triton")["spec"]["template"]["spec"]
    assert not any("ssl" in a for a in dev["containers"][0]["args"]), "dev: plaintext gRPC"
