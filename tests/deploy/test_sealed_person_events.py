"""Sealed person events as deployed (docs/architecture.md, "Erasure on the event log"): every
consumer is told where registry's person keys are and may reach them, the v1 migration window
is off in settings.py, docker-compose.yml, the ConfigMap and .env.example alike, and production
refuses to start without the service token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from tests.deploy.files import ENV_EXAMPLE, k8s_resources, workloads
from tests.deploy.test_compose import resolved
from tests.production_secrets import KEYS

WINDOW = "LABOURX_PUBLISH_PERSON_EVENTS_V1"


def _config_map() -> dict[str, str]:
    [config] = [
        doc["data"]
        for _, doc in k8s_resources()
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "labourx-config"
    ]
    return dict(config)


def test_the_migration_window_is_off_everywhere() -> None:
    assert Settings.model_fields["publish_person_events_v1"].default is False
    services = resolved()["services"]
    labourx = [svc for svc in services.values() if "LABOURX_ENV" in svc.get("environment", {})]
    for service in labourx:
        assert str(service["environment"][WINDOW]).lower() == "false"
    assert _config_map()[WINDOW] == "false"
    shown = re.findall(rf"^# {WINDOW}=(\S+)$", ENV_EXAMPLE.read_text(), re.M)
    assert shown == ["false"]


def test_every_consumer_reaches_registry_for_keys_over_the_internal_network() -> None:
    services = resolved()["services"]
    for name, service in services.items():
        if name.endswith("-consumer"):
            env = service["environment"]
            assert env["LABOURX_REGISTRY_URL"] == "http://registry-api:8000", name
            assert "registry-api" in env["LABOURX_INTERNAL_HTTP_HOSTS"].split(","), name
    config = _config_map()
    assert config["LABOURX_REGISTRY_URL"] == "http://registry.labourx.svc"
    assert "registry.labourx.svc" in config["LABOURX_INTERNAL_HTTP_HOSTS"].split(",")
    registry = dict(workloads())["Deployment/registry-api"]["spec"]["template"]["metadata"]
    consumer_pods = [
        workload["spec"]["template"]["metadata"]["labels"]
        for name, workload in workloads()
        if name.endswith("-consumer")
    ]
    assert consumer_pods
    admitting = [
        rule
        for _, doc in k8s_resources()
        if doc["kind"] == "NetworkPolicy"
        and all(
            registry["labels"].get(k) == v
            for k, v in doc["spec"]["podSelector"].get("matchLabels", {}).items()
        )
        for rule in doc["spec"].get("ingress", [])
    ]
    for labels in consumer_pods:
        assert any(
            all(labels.get(k) == v for k, v in peer["podSelector"]["matchLabels"].items())
            for rule in admitting
            for peer in rule["from"]
            if "podSelector" in peer
        ), labels


def test_production_needs_a_strong_service_token_and_an_internal_or_https_registry() -> None:
    base: dict[str, Any] = {
        **KEYS,
        "env": "production",
        "database_url": "postgresql://labourx@db/postgres",
        "kafka_bootstrap_servers": "kafka:9092",
        "jwt_jwks_url": "https://id.example.la/certs",
        "public_base_url": "https://labourx.example.la/predeparture",
        "registry_url": "https://registry.example.la",
    }
    Settings(**base)
    without = {k: v for k, v in base.items() if k != "service_token"}
    with pytest.raises(ValidationError, match="LABOURX_SERVICE_TOKEN is required"):
        Settings(**without)
    with pytest.raises(ValidationError, match="LABOURX_SERVICE_TOKEN"):
        Settings(**{**base, "service_token": "labourx"})
    with pytest.raises(ValidationError, match="LABOURX_REGISTRY_URL must be an https"):
        Settings(**{**base, "registry_url": "http://registry.example.la"})
    Settings(
        **{
            **base,
            "registry_url": "http://registry.labourx.svc",
            "internal_http_hosts": "registry.labourx.svc",
        }
    )
