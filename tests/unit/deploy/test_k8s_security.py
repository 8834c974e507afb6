"""The rendered overlays are locked down: Pod Security "restricted", PDBs and NetworkPolicies for
every workload, no pod reaches Triton's HTTP API, no secret is an env var."""

from __future__ import annotations

from typing import Any

import pytest

from mira.settings import MiraSettings
from mira.settings.secrets import secret_fields
from tests.unit.deploy.conftest import OVERLAYS, container_env, find, pod_spec
from tests.unit.deploy.manifests import scorer_settings, selects, setting_of, workloads

ALLOWED_VOLUMES = {
    "configMap",
    "secret",
    "emptyDir",
    "persistentVolumeClaim",
    "projected",
    "downwardAPI",
    "csi",
    "ephemeral",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_meets_pod_security_restricted(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    ns = next(o for o in objs if o["kind"] == "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    accounts = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ServiceAccount"}
    for obj in workloads(objs):
        pod, where = pod_spec(obj), f"{obj['kind']}/{obj['metadata']['name']}"
        assert pod is not None
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        assert accounts[pod["serviceAccountName"]]["automountServiceAccountToken"] is False
        assert all(set(v) - {"name"} <= ALLOWED_VOLUMES for v in pod.get("volumes", [])), where
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert not sc.get("privileged") and sc["readOnlyRootFilesystem"] is True, where
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_have_pdbs_and_network_policies(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    pdbs = [o["spec"]["selector"] for o in objs if o["kind"] == "PodDisruptionBudget"]
    policies = [o["spec"]["podSelector"] for o in objs if o["kind"] == "NetworkPolicy"]
    for obj in workloads(objs):
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        labels = spec["template"]["metadata"]["labels"]
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        assert any(selects(s, labels) for s in policies), f"no NetworkPolicy for {name}"
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert any(selects(s, labels) for s in pdbs), f"no PodDisruptionBudget for {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_reaches_tritons_http_api_and_no_secret_is_an_env_var(
    rendered: Any, overlay: str
) -> None:
    objs = rendered[overlay]
    triton_in = find(objs, "NetworkPolicy", "mira-triton")["spec"]["ingress"]
    assert 8000 not in {p["port"] for rule in triton_in for p in rule["ports"]}
    scorer_out = find(objs, "NetworkPolicy", "mira-scorer")["spec"]["egress"]
    assert 8000 not in {p["port"] for rule in scorer_out for p in rule.get("ports", [])}
    assert "http_url" not in scorer_settings(objs).triton.model_fields_set
    for obj in workloads(objs):
        for c in pod_spec(obj)["containers"]:  # type: ignore[index]
            for name, env in container_env(c).items():
                if name.startswith("MIRA_") and "secretKeyRef" in env.get("valueFrom", {}):
                    section, field = setting_of(name)
                    assert field not in secret_fields(MiraSettings)[section], (
                        f"{obj['metadata']['name']}: {name} from a Secret as env var: use "
                        f"{name}_FILE and a secret volume"
                    )
