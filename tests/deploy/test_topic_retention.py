"""The retention of each class of topic is set the same way by settings.py, docker-compose.yml,
the Kubernetes ConfigMap and .env.example, and reaches the process that sets it on the topics."""

from __future__ import annotations

import re
from typing import Any

from shared.settings import Settings
from tests.deploy.files import ENV_EXAMPLE, k8s_resources, workloads
from tests.deploy.test_compose import resolved

RETENTION = {
    f"LABOURX_{name.upper()}": name
    for name in Settings.model_fields
    if name.startswith("topic_retention_")
}


def _defaults() -> dict[str, str]:
    return {env: str(Settings.model_fields[name].default) for env, name in RETENTION.items()}


def _read(values: dict[str, Any]) -> Settings:
    return Settings(**{RETENTION[k]: v for k, v in values.items() if k in RETENTION})


def test_there_is_a_retention_for_each_class_of_topic() -> None:
    assert set(RETENTION.values()) == {
        "topic_retention_personal_ms",
        "topic_retention_non_personal_ms",
        "topic_retention_dead_letter_ms",
    }


def test_compose_hands_every_labourx_process_the_retention_with_the_settings_defaults() -> None:
    services = resolved()["services"]
    # `labourx topics` sets it on every topic; relays, consumers and jobs on those they make.
    labourx = [svc for svc in services.values() if "LABOURX_ENV" in svc.get("environment", {})]
    assert services["migrate"] in labourx
    for service in labourx:
        env = {k: str(v) for k, v in service["environment"].items() if k in RETENTION}
        assert env == _defaults()
        _read(env)


def test_the_config_map_sets_the_retention_with_the_settings_defaults() -> None:
    maps = {
        doc["metadata"]["name"]: doc for _, doc in k8s_resources() if doc["kind"] == "ConfigMap"
    }
    data = maps["labourx-config"]["data"]
    assert {k: v for k, v in data.items() if k in RETENTION} == _defaults()
    _read(data)
    migrate = dict(workloads())["Job/labourx-migrate"]
    container = migrate["spec"]["template"]["spec"]["containers"][0]
    assert {"configMapRef": {"name": "labourx-config"}} in container["envFrom"]


def test_env_example_shows_each_retention_with_its_default() -> None:
    shown = dict(
        re.findall(r"^# (LABOURX_TOPIC_RETENTION_[A-Z_]+)=(\S+)$", ENV_EXAMPLE.read_text(), re.M)
    )
    assert shown == _defaults()
