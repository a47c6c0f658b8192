""".env.example: documents every setting, names only real ones, and fails fast until filled."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from tests.deploy.files import ENV_EXAMPLE, env_example
from tests.production_secrets import KEYS, SMS_GATEWAY_TOKEN, SMS_INBOUND_SECRET

# Settings docker-compose.yml sets itself (listed in .env.example's comments).
SET_BY_COMPOSE = {
    "LABOURX_ENV",
    "LABOURX_DATABASE_URL",
    "LABOURX_KAFKA_BOOTSTRAP_SERVERS",
    "LABOURX_KAFKA_ENABLE_IDEMPOTENCE",
    "LABOURX_METRICS_PORT",
    # Its Keycloak and console.
    "LABOURX_JWT_JWKS_URL",
    "LABOURX_JWT_ISSUER",
    "LABOURX_INTERNAL_HTTP_HOSTS",
    "LABOURX_CONSOLE_OIDC_ISSUER",
    "LABOURX_CONSOLE_OIDC_DISCOVERY_URL",
    "LABOURX_CONSOLE_OIDC_CLIENT_ID",
    "LABOURX_CONSOLE_PUBLIC_URL",
    "LABOURX_CONSOLE_REGISTRY_URL",
    "LABOURX_CONSOLE_MATCHING_URL",
    "LABOURX_CONSOLE_PREDEPARTURE_URL",
    "LABOURX_CONSOLE_NOTIFY_URL",
    # Registry's API for the consumers' person keys.
    "LABOURX_REGISTRY_URL",
}
# Read by docker compose, not by labourx.
COMPOSE_ONLY = {
    "LABOURX_IMAGE",
    "POSTGRES_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "KAFKA_CLUSTER_ID",
    "PROMETHEUS_RETENTION",
    "KEYCLOAK_URL",
    "CONSOLE_URL",
    "KEYCLOAK_ADMIN_PASSWORD",
}
FIELDS = {f"LABOURX_{name.upper()}" for name in Settings.model_fields}


def _mentioned() -> set[str]:
    """Every LABOURX_* name the file assigns or shows in a comment."""
    return set(re.findall(r"\b(LABOURX_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text()))


def _production_settings(**secrets: str) -> Settings:
    values = {
        key.removeprefix("LABOURX_").lower(): value
        for key, value in env_example().items()
        if key in FIELDS
    }
    return Settings(
        env="production",
        database_url="postgresql://labourx:pw@postgres:5432/postgres",
        kafka_bootstrap_servers="kafka-1:9092",
        **values,  # type: ignore[arg-type]
        **secrets,  # type: ignore[arg-type]
    )


def test_every_setting_is_documented_and_every_name_is_a_setting() -> None:
    mentioned = _mentioned()
    assert mentioned - COMPOSE_ONLY <= FIELDS, f"not settings: {mentioned - COMPOSE_ONLY - FIELDS}"
    missing = FIELDS - mentioned
    assert not missing, f"add to .env.example (commented out if optional): {sorted(missing)}"
    assert set(env_example()) <= FIELDS | COMPOSE_ONLY


def test_no_setting_is_assigned_an_empty_value() -> None:
    # An empty LABOURX_CERTIFICATE_KEY= is an empty key, not a missing one: the production check
    # would let it through. Optional settings stay commented out instead.
    empty = [
        key for key, value in env_example().items() if key.startswith("LABOURX_") and not value
    ]
    assert not empty, empty


def test_the_example_refuses_production_until_the_secrets_are_filled_in() -> None:
    with pytest.raises(ValidationError, match="LABOURX_JWT_SECRET or LABOURX_JWT_JWKS_URL"):
        _production_settings()
    settings = _production_settings(
        jwt_jwks_url="https://id.example.la/certs",
        public_base_url="https://labourx.example.la/predeparture",
        sms_gateway_url="https://sms.example.la/v1/messages",
        sms_gateway_token=SMS_GATEWAY_TOKEN,
        sms_inbound_secret=SMS_INBOUND_SECRET,
        **KEYS,
        smtp_host="smtp.example.la",
    )
    assert settings.topic_replication_factor == 3
    assert settings.topic_partitions >= 3
    assert settings.sms_provider == "http"
    assert settings.email_provider == "smtp"
    for name in SET_BY_COMPOSE:
        assert name not in env_example(), f"{name} is docker-compose.yml's to set"


def test_notify_has_its_own_marked_section() -> None:
    text = ENV_EXAMPLE.read_text()
    assert "# ---- notify ----" in text
    section = text.split("# ---- notify ----", 1)[1]
    notify_fields = {
        name
        for name in FIELDS
        if re.match(r"LABOURX_(SMS|SMTP|EMAIL|DELIVERY|PARTNER|NOTIFY)_", name)
    }
    assert notify_fields, "notify's settings have moved: update this test"
    assert notify_fields <= set(re.findall(r"\b(LABOURX_[A-Z0-9_]+)=", section))
