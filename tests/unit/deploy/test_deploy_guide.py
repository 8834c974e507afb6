"""docs/deploy.md names only what the manifests define: every `kind/name`, every object given to
kubectl, every quoted `mira-*` name, every MIRA_ variable, the images and the overlay paths."""

from __future__ import annotations

import re
from typing import Any

from mira.settings import MiraSettings
from mira.settings.secrets import secret_fields
from tests.unit.deploy.conftest import OVERLAYS, ROOT, pod_spec

GUIDE = (ROOT / "docs" / "deploy.md").read_text()
KINDS = {
    "statefulset": "StatefulSet",
    "deployment": "Deployment",
    "service": "Service",
    "svc": "Service",
    "cronjob": "CronJob",
    "configmap": "ConfigMap",
    "secret": "Secret",
    "persistentvolumeclaim": "PersistentVolumeClaim",
    "pvc": "PersistentVolumeClaim",
    "scaledobject": "ScaledObject",
    "triggerauthentication": "TriggerAuthentication",
    "podmonitor": "PodMonitor",
    "servicemonitor": "ServiceMonitor",
    "prometheusrule": "PrometheusRule",
    "networkpolicy": "NetworkPolicy",
    "poddisruptionbudget": "PodDisruptionBudget",
    "pdb": "PodDisruptionBudget",
    "serviceaccount": "ServiceAccount",
    "job": "Job",
    "namespace": "Namespace",
}
KIND_NAME = re.compile(r"\b(" + "|".join(KINDS) + r")/([a-z0-9][a-z0-9.-]*)")
JOB_FROM = re.compile(r"create job --from=cronjob/\S+ (\S+)")


def _all(rendered: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for name in OVERLAYS for o in rendered[name]]


def _defined(rendered: dict[str, Any]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in _all(rendered)}


def test_every_kind_slash_name_exists(rendered: dict[str, Any]) -> None:
    defined = _defined(rendered)
    jobs = set(JOB_FROM.findall(GUIDE))  # Jobs the guide creates itself from the templates
    quoted = set(KIND_NAME.findall(GUIDE))
    assert len(quoted) >= 10
    missing = [
        f"{k}/{n}"
        for k, n in quoted
        if (KINDS[k], n) not in defined and not (k == "job" and n in jobs)
    ]
    assert not missing, f"docs/deploy.md names objects no overlay renders: {missing}"


def test_every_quoted_mira_name_is_an_object_container_or_image(
    rendered: dict[str, Any], values: dict[str, Any]
) -> None:
    names = {n for _, n in _defined(rendered)}
    for val in values.values():  # Secrets the guide has you create, named in values.yaml
        names |= {val["kafka"].get("credentialsSecret"), *val.get("triton", {}).values()}
    for obj in _all(rendered):
        pod = pod_spec(obj) or {}
        for c in pod.get("containers", []):
            names.add(c["name"])
            names.add(c["image"].rsplit("/", 1)[-1].split(":")[0])
    names |= set(JOB_FROM.findall(GUIDE))
    names |= {f"{o['metadata']['name']}-0" for o in _all(rendered) if o["kind"] == "StatefulSet"}
    quoted = set(re.findall(r"`(mira-[a-z0-9-]+)`", GUIDE))
    assert quoted, "the guide quotes mira objects"
    assert quoted <= names, sorted(quoted - names)


def test_env_vars_settings_images_and_paths_exist(rendered: dict[str, Any]) -> None:
    secrets = secret_fields(MiraSettings)
    for var in set(re.findall(r"\bMIRA_[A-Z_]+\b", GUIDE)) - {"MIRA_CONFIG"}:
        if var.endswith("_"):  # MIRA_<SECTION>_<FIELD>
            continue
        section, _, field = var[5:].lower().partition("_")
        if field.endswith("_file") and field[:-5] in secrets[section]:
            field = field[:-5]  # a secret read from a file
        model = MiraSettings.model_fields[section].annotation
        assert field in model.model_fields, var  # type: ignore[union-attr]
    dotted = re.findall(r"`(scorer|triton|export)\.([a-z_]+)`", GUIDE)
    assert len(dotted) >= 5
    for section, field in dotted:
        assert field in MiraSettings.model_fields[section].annotation.model_fields, field  # type: ignore[union-attr]
    images = {c["image"] for o in _all(rendered) for c in (pod_spec(o) or {}).get("containers", [])}
    for image in re.findall(r"nvcr\.io/nvidia/tritonserver:[\w.-]+", GUIDE):
        assert image in images, image
    for path in re.findall(r"`?(deploy/[\w./-]+[\w/])`?", GUIDE):
        assert (ROOT / path).exists(), path
