"""The rendered overlays agree with the settings: every MIRA_ name and config key is a field,
KEDA reads the Kafka the scorer reads, the scorer pod matches its settings."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mira.settings import MiraSettings
from tests.unit.deploy.conftest import OVERLAYS, container_env, find, pod_spec
from tests.unit.deploy.manifests import (
    config_map_name,
    scorer_settings,
    scorer_sts,
    secret_file,
    setting_of,
    workloads,
)

KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_mira_env_var_and_config_key_is_a_settings_field(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    sections = MiraSettings.model_fields
    bad = []
    for obj in workloads(objs):
        for container in pod_spec(obj)["containers"]:  # type: ignore[index]
            for name in container_env(container):
                if not name.startswith("MIRA_") or name == "MIRA_CONFIG":
                    continue
                section, field = setting_of(name)
                model = sections.get(section)
                if model is None or field not in model.annotation.model_fields:  # type: ignore[union-attr]
                    bad.append(f"{obj['metadata']['name']}: {name}")
    config = yaml.safe_load(find(objs, "ConfigMap", config_map_name(objs))["data"]["config.yaml"])
    bad += [f"config.yaml: {key}" for key in config if key not in sections]
    assert not bad, f"not settings fields: {bad}"
    scorer_settings(objs)  # and the values validate (extra keys are forbidden per section)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_trigger_and_scorer_read_the_same_kafka(
    rendered: Any, values: Any, overlay: str
) -> None:
    objs, val = rendered[overlay], values[overlay]
    settings = scorer_settings(objs)
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
        sts, container = scorer_sts(objs)
        env = container_env(container)
        ref = env["MIRA_KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"]
        assert params["username"] == (ref["name"], ref["key"])
        assert "MIRA_KAFKA_SASL_PASSWORD" not in env, "secrets as files, not env"
        pod = sts["spec"]["template"]["spec"]
        password = env["MIRA_KAFKA_SASL_PASSWORD_FILE"]["value"]
        assert params["password"] == secret_file(pod, container, password)
        ca = secret_file(pod, container, env["MIRA_KAFKA_SSL_CAFILE"]["value"])
        assert params["ca"] == ca and ca[0] == val["kafka"]["credentialsSecret"]
    else:
        assert "authenticationRef" not in trigger and "sasl" not in meta


def test_dev_partitions_are_the_settings_default(values: Any) -> None:
    assert values["dev"]["partitions"] == MiraSettings().producer.partitions


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scorer_pod_matches_its_settings(rendered: Any, overlay: str) -> None:
    objs = rendered[overlay]
    settings = scorer_settings(objs)
    sts, container = scorer_sts(objs)
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
