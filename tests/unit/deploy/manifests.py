"""What the deploy tests read out of rendered objects: workloads, the scorer pod and the
settings it would load, files of mounted Secrets, label selection."""

from __future__ import annotations

from typing import Any

import yaml

from mira.settings import MiraSettings
from mira.settings.secrets import secret_fields
from tests.unit.deploy.conftest import container_env, find, pod_spec

Objs = list[dict[str, Any]]


def workloads(objs: Objs) -> Objs:
    return [o for o in objs if pod_spec(o) is not None]


def scorer_sts(objs: Objs) -> tuple[dict[str, Any], dict[str, Any]]:
    sts = find(objs, "StatefulSet", "mira-scorer")
    return sts, sts["spec"]["template"]["spec"]["containers"][0]


def setting_of(name: str) -> tuple[str, str]:
    """MIRA_<SECTION>_<FIELD>[_FILE] -> (section, field); _FILE only for SecretStr fields."""
    section, _, field = name[5:].lower().partition("_")
    if field.endswith("_file") and field[:-5] in secret_fields(MiraSettings).get(section, []):
        field = field[:-5]
    return section, field


def scorer_settings(objs: Objs) -> MiraSettings:
    """Settings the scorer pod would load: its config file, then its literal MIRA_ env."""
    config = find(objs, "ConfigMap", config_map_name(objs))["data"]["config.yaml"]
    data = yaml.safe_load(config)
    for name, env in container_env(scorer_sts(objs)[1]).items():
        if name.startswith("MIRA_") and name != "MIRA_CONFIG":
            section, field = setting_of(name)
            data.setdefault(section, {})[field] = env.get("value", "from-secret")
    return MiraSettings.model_validate(data)


def secret_file(pod: dict[str, Any], container: dict[str, Any], path: str) -> tuple[str, str]:
    """(Secret name, key) of the file ``path`` a container sees through a secret volume."""
    vols = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        secret = vols[mount["name"]].get("secret")
        folder, _, file = path.rpartition("/")
        if secret and folder == mount["mountPath"].rstrip("/"):
            key = next(i["key"] for i in secret["items"] if i["path"] == file)
            return secret["secretName"], key
    raise AssertionError(f"{path} is not a file of a mounted Secret")


def config_map_name(objs: Objs) -> str:
    pod = scorer_sts(objs)[0]["spec"]["template"]["spec"]
    return next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
