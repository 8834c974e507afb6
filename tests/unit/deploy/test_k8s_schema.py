"""Every overlay renders, and every object is valid offline: Kubernetes schemas
(kubernetes-validate, strict), CRD schemas of KEDA and prometheus-operator (fetched through the
Go module proxy by deploy/tools.py), and kube-score with no unexplained finding."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.unit.deploy.conftest import K8S, OVERLAYS, TOOLS

KUBERNETES_VERSION = "1.32.0"  # kubectl/kustomize on the machine; schemas shipped by the package
CRD_GROUPS = {"keda.sh", "monitoring.coreos.com"}
PLACEHOLDERS = ("set-by-overlay", "REGISTRY/", ":VERSION")


class _CRDLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML reads a bare `=` (an enum value in the CRDs) as the obscure !!value tag."""


_CRDLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: node.value)


def _group(obj: dict[str, Any]) -> str:
    api = obj["apiVersion"]
    return api.split("/", 1)[0] if "/" in api else ""


def _strict(schema: Any) -> Any:
    """A CRD's structural schema, rejecting unknown fields (the API server would prune them)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.fixture(scope="session")
def crd_schemas(rendered: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema, for the custom kinds the overlays use.

    CRD files are named <group>_<plural>.yaml; only those needed are parsed (the
    prometheus-operator ones are megabytes of YAML)."""
    wanted = {
        f"{_group(o)}_{o['kind'].lower()}s.yaml"
        for objs in rendered.values()
        for o in objs
        if _group(o) in CRD_GROUPS
    }
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for folder in TOOLS.crd_dirs():
        for path in sorted(p for p in folder.glob("*.yaml") if p.name in wanted):
            crd = yaml.load(path.read_text(), Loader=_CRDLoader)
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    out[key] = _strict(version["schema"]["openAPIV3Schema"])
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_without_placeholders(rendered: dict[str, Any], overlay: str) -> None:
    text = yaml.safe_dump_all(rendered[overlay])
    left = [p for p in PLACEHOLDERS if p in text]
    assert not left, f"{overlay}: placeholders not replaced: {left}"
    kinds = {o["kind"] for o in rendered[overlay]}
    assert "MiraDeployValues" not in kinds, "values.yaml must stay local-config"
    namespaces = {
        o["metadata"].get("namespace") for o in rendered[overlay] if o["kind"] != "Namespace"
    }
    assert len(namespaces) == 1, namespaces


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_builtin_objects_match_kubernetes_schemas(rendered: dict[str, Any], overlay: str) -> None:
    errors = []
    for obj in rendered[overlay]:
        if _group(obj) in CRD_GROUPS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(exc.message)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_match_their_crds(
    rendered: dict[str, Any], crd_schemas: Any, overlay: str
) -> None:
    custom = [o for o in rendered[overlay] if _group(o) in CRD_GROUPS]
    assert {o["kind"] for o in custom} >= {
        "ScaledObject",
        "PodMonitor",
        "ServiceMonitor",
        "PrometheusRule",
    }
    errors = []
    for obj in custom:
        schema = crd_schemas.get((obj["apiVersion"], obj["kind"]))
        if schema is None:
            errors.append(f"no CRD schema for {obj['apiVersion']} {obj['kind']}")
            continue
        for err in jsonschema.Draft7Validator(schema).iter_errors(obj):
            path = ".".join(str(p) for p in err.path)
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {err.message}")
    assert not errors, "\n".join(errors)


def test_crd_strictness_catches_a_typo(crd_schemas: Any) -> None:
    bad = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "maxReplicas": 3,
            "triggers": [{"type": "kafka", "metadata": {}}],
        },
    }
    schema = crd_schemas[("keda.sh/v1alpha1", "ScaledObject")]
    assert any(
        "maxReplicas" in e.message for e in jsonschema.Draft7Validator(schema).iter_errors(bad)
    )


def _kube_score(policy: dict[str, Any], manifest: Path) -> list[dict[str, Any]]:
    cmd = [
        str(TOOLS.kube_score()),
        "score",
        "--output-format",
        "json",
        "--kubernetes-version",
        policy["kubernetes_version"],
        *policy["flags"],
    ]
    for check in policy["enable_optional"]:
        cmd += ["--enable-optional-test", check]
    done = subprocess.run(
        [*cmd, str(manifest)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip().startswith("["), done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kube_score_leaves_no_unexplained_finding(
    rendered: dict[str, Any], overlay: str, tmp_path: Path
) -> None:
    policy = yaml.safe_load((K8S / "kube-score.yaml").read_text())
    assert all(str(reason).strip() for reason in policy["flags"].values())
    accepted = {
        (w["object"], w["check"])
        for w in policy["accepted_warnings"]
        if w["overlay"] == overlay and w["reason"].strip()
    }
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered[overlay]))
    findings = []
    for obj in _kube_score(policy, manifest):
        name = f"{obj['type_meta']['kind']}/{obj['object_meta']['name']}"
        for check in obj["checks"]:
            if check["skipped"] or check["grade"] >= 10:
                continue
            if check["grade"] > 1 and (name, check["check"]["id"]) in accepted:
                continue
            summary = "; ".join(c["summary"] for c in check["comments"] or [])
            findings.append(f"{name} {check['check']['id']} (grade {check['grade']}): {summary}")
    assert not findings, "\n".join(findings)
