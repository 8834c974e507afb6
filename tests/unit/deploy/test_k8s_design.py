"""The rendered overlays agree with the code and with themselves: settings names, KEDA vs
scorer, Pod Security "restricted", PDBs and NetworkPolicies, references, Triton hardening."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from mira.settings import MiraSettings
from mira.settings.secrets import secret_fields
from tests.unit.deploy.conftest import OVERLAYS, container_env, find, pod_spec

Objs = list[dict[str, Any]]
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
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


def _workloads(objs: Objs) -> Objs:
    return [o for o in objs if pod_spec(o) is not None]


def _scorer(objs: Objs) -> tuple[dict[str, Any], dict[str, Any]]:
    sts = find(objs, "StatefulSet", "mira-scorer")
    return sts, sts["spec"]["template"]["spec"]["containers"][0]


def _setting_of(name: str) -> tuple[str, str]:
    """MIRA_<SECTION>_<FIELD>[_FILE] -> (section, field); _FILE only for SecretStr fields."""
    section, _, field = name[5:].lower().partition("_")
    if field.endswith("_file") and field[:-5] in secret_fields(MiraSettings).get(section, []):
        field = field[:-5]
    return section, field


def _scorer_settings(objs: Objs) -> MiraSettings:
    """Settings the scorer pod would load: its config file, then its literal MIRA_ env."""
    config = find(objs, "ConfigMap", _config_map_name(objs))["data"]["config.yaml"]
    data = yaml.safe_load(config)
    for name, env in container_env(_scorer(objs)[1]).items():
        if name.startswith("MIRA_") and name != "MIRA_CONFIG":
            section, field = _setting_of(name)
            data.setdefault(section, {})[field] = env.get("value", "from-secret")
    return MiraSettings.model_validate(data)


def _secret_file(pod: dict[str, Any], container: dict[str, Any], path: str) -> tuple[str, str]:
    """(Secret name, key) of the file ``path`` a container sees through a secret volume."""
    vols = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        secret = vols[mount["name"]].get("secret")
        folder, _, file = path.rpartition("/")
        if secret and folder == mount["mountPath"].rstrip("/"):
            key = next(i["key"] for i in secret["items"] if i["path"] == file)
            return secret["secretName"], key
    raise AssertionError(f"{path} is not a file of a mounted Secret")


def _config_map_name(objs: Objs) -> str:
    pod = _scorer(objs)[0]["spec"]["template"]["spec"]
    return next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_mira_env_var_and_config_key_is_a_settings_field(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    sections = MiraSettings.model_fields
    bad = []
    for obj in _workloads(objs):
        for container in pod_spec(obj)["containers"]:  # type: ignore[index]
            for name in container_env(container):
                if not name.startswith("MIRA_") or name == "MIRA_CONFIG":
                    continue
                section, field = _setting_of(name)
                model = sections.get(section)
                if model is None or field not in model.annotation.model_fields:  # type: ignore[union-attr]
                    bad.append(f"{obj['metadata']['name']}: {name}")
    config = yaml.safe_load(find(objs, "ConfigMap", _config_map_name(objs))["data"]["config.yaml"])
    bad += [f"config.yaml: {key}" for key in config if key not in sections]
    assert not bad, f"not settings fields: {bad}"
    _scorer_settings(objs)  # and the values validate (extra keys are forbidden per section)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_trigger_and_scorer_read_the_same_kafka(
    rendered: Any, values: Any, overlay: str
) -> None:
    objs, val = rendered[overlay], values[overlay]
    settings = _scorer_settings(objs)
    so = find(objs, "ScaledObject", "mira-scorer")
    trigger = so["spec"]["triggers"][0]
    meta = trigger["metadata"]
    assert so["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "mira-scorer",
    }
    assert meta["bootstrapServers"] == settings.kafka.bootstrap == val["kafka"]["bootstrap"]
    assert meta["topic"] == settings.topics.input
    assert meta["consumerGroup"] == settings.scorer.group_id
    assert so["spec"]["maxReplicaCount"] == val["partitions"]
    tls = settings.kafka.security_protocol in ("SSL", "SASL_SSL")
    assert (meta.get("tls") == "enable") == tls
    if settings.kafka.security_protocol.startswith("SASL"):
        assert meta["sasl"] == KEDA_SASL[settings.kafka.sasl_mechanism]  # type: ignore[index]
        auth = find(objs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        params = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
        sts, container = _scorer(objs)
        env = container_env(container)
        ref = env["MIRA_KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"]
        assert params["username"] == (ref["name"], ref["key"])
        assert "MIRA_KAFKA_SASL_PASSWORD" not in env, "secrets as files, not env"
        pod = sts["spec"]["template"]["spec"]
        password = env["MIRA_KAFKA_SASL_PASSWORD_FILE"]["value"]
        assert params["password"] == _secret_file(pod, container, password)
        ca = _secret_file(pod, container, env["MIRA_KAFKA_SSL_CAFILE"]["value"])
        assert params["ca"] == ca and ca[0] == val["kafka"]["credentialsSecret"]
    else:
        assert "authenticationRef" not in trigger and "sasl" not in meta


def test_dev_partitions_are_the_settings_default(values: Any) -> None:
    assert values["dev"]["partitions"] == MiraSettings().producer.partitions


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_meets_pod_security_restricted(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    ns = next(o for o in objs if o["kind"] == "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    accounts = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ServiceAccount"}
    for obj in _workloads(objs):
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


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_have_pdbs_and_network_policies(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    pdbs = [o["spec"]["selector"] for o in objs if o["kind"] == "PodDisruptionBudget"]
    policies = [o["spec"]["podSelector"] for o in objs if o["kind"] == "NetworkPolicy"]
    for obj in _workloads(objs):
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        labels = spec["template"]["metadata"]["labels"]
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        assert any(_selects(s, labels) for s in policies), f"no NetworkPolicy for {name}"
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert any(_selects(s, labels) for s in pdbs), f"no PodDisruptionBudget for {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_resolve(rendered: Any, values: Any, overlay: str) -> None:
    objs = rendered[overlay]
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    external = {("Secret", values[overlay]["kafka"].get("credentialsSecret"))}
    external |= {("Secret", name) for name in values[overlay].get("triton", {}).values()}
    for obj in _workloads(objs):
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
def test_scorer_pod_matches_its_settings(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    settings = _scorer_settings(objs)
    sts, container = _scorer(objs)
    pod = sts["spec"]["template"]["spec"]
    assert "replicas" not in sts["spec"], "KEDA owns the replica count"
    env = container_env(container)
    assert env["MIRA_SCORER_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert container["ports"][0]["containerPort"] == settings.scorer.metrics_port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["terminationGracePeriodSeconds"] > settings.scorer.drain_timeout_s
    assert "nvidia.com/gpu" not in str(container["resources"])
    cpu = int(container["resources"]["requests"]["cpu"])
    assert settings.scorer.tokenizer_workers == cpu
    host = settings.triton.grpc_url.rsplit(":", 1)[0]
    assert find(objs, "Service", host)["spec"]["clusterIP"] == "None", "balance over all pods"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_is_hardened_and_shares_the_repository(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    settings = _scorer_settings(objs)
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
        if o["kind"] == "Service" and _selects(monitor["spec"]["selector"], o["metadata"]["labels"])
    )
    assert svc["spec"]["clusterIP"] == "None"
    assert "metrics" in {p["name"] for p in svc["spec"]["ports"]}
    assert {p["containerPort"] for p in c["ports"]} == {8000, 8001, 8002}


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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_reaches_tritons_http_api_and_no_secret_is_an_env_var(
    rendered: Any, overlay: str
) -> None:
    objs = rendered[overlay]
    triton_in = find(objs, "NetworkPolicy", "mira-triton")["spec"]["ingress"]
    assert 8000 not in {p["port"] for rule in triton_in for p in rule["ports"]}
    scorer_out = find(objs, "NetworkPolicy", "mira-scorer")["spec"]["egress"]
    assert 8000 not in {p["port"] for rule in scorer_out for p in rule.get("ports", [])}
    assert "http_url" not in _scorer_settings(objs).triton.model_fields_set
    for obj in _workloads(objs):
        for c in pod_spec(obj)["containers"]:  # type: ignore[index]
            for name, env in container_env(c).items():
                if name.startswith("MIRA_") and "secretKeyRef" in env.get("valueFrom", {}):
                    section, field = _setting_of(name)
                    assert field not in secret_fields(MiraSettings)[section], (
                        f"{obj['metadata']['name']}: {name} from a Secret as env var: use "
                        f"{name}_FILE and a secret volume"
                    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_tritons_readiness_survives_a_rollout(rendered: Any, overlay: str) -> None:
    """Scorers load new versions on every replica at once: with strict readiness they would all
    leave the Service while loading; the scorer checks each version per replica instead."""
    c = find(rendered[overlay], "Deployment", "mira-triton")["spec"]["template"]["spec"]
    args = dict(a.split("=", 1) for a in c["containers"][0]["args"])
    assert args["--strict-readiness"] == "false" and args["--exit-on-error"] == "true"
    assert args["--load-model"] == "*"
    settings = _scorer_settings(rendered[overlay])
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
        assert _secret_file(pod, c, args[flag]) == (val["serverTlsSecret"], key)
    apis, _, header = args["--http-restricted-api"].partition(":")
    assert {"model-repository", "model-config"} <= set(apis.split(","))
    assert "health" not in apis.split(","), "the kubelet probes /v2/health/*"
    key, _, value = header.partition("=")
    ref = container_env(c)[value.strip("$()")]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == (val["adminSecret"], "http-admin-key")
    settings = _scorer_settings(objs)
    assert settings.triton.ssl
    sts, scorer = _scorer(objs)
    spod = sts["spec"]["template"]["spec"]
    for path, key in (
        (settings.triton.ssl_root_cert, "ca.crt"),
        (settings.triton.ssl_cert, "tls.crt"),
        (settings.triton.ssl_key, "tls.key"),
    ):
        assert _secret_file(spod, scorer, str(path)) == (val["clientTlsSecret"], key)
    dev = find(rendered["dev"], "Deployment", "mira-triton")["spec"]["template"]["spec"]
    assert not any("ssl" in a for a in dev["containers"][0]["args"]), "dev: plaintext gRPC"
