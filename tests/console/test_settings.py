"""The console's settings: production refuses the development sign-in page."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from tests.production_secrets import KEYS

PRODUCTION = {
    "env": "production",
    "database_url": "postgresql://labourx@db/postgres",
    "kafka_bootstrap_servers": "kafka:9092",
    "jwt_jwks_url": "https://id.example.la/certs",
    **KEYS,
    "public_base_url": "https://labourx.la",
}


def test_production_refuses_to_start_with_the_development_sign_in_on() -> None:
    with pytest.raises(ValidationError, match="LABOURX_CONSOLE_DEV_SIGN_IN"):
        Settings(**PRODUCTION, console_dev_sign_in=True)  # type: ignore[arg-type]


def test_the_development_sign_in_is_on_in_development_and_test_only_by_default() -> None:
    assert not Settings(**PRODUCTION).console_dev_sign_in_enabled  # type: ignore[arg-type]
    assert Settings(env="development").console_dev_sign_in_enabled
    assert Settings(env="test").console_dev_sign_in_enabled
    assert not Settings(env="development", console_dev_sign_in=False).console_dev_sign_in_enabled


def test_cookies_are_secure_everywhere_but_development() -> None:
    assert not Settings(env="development").console_cookies_secure
    assert Settings(env="test").console_cookies_secure
    assert Settings(**PRODUCTION).console_cookies_secure  # type: ignore[arg-type]


def test_the_idle_timeout_cannot_outlast_the_absolute_one() -> None:
    with pytest.raises(ValidationError, match="IDLE_TIMEOUT"):
        Settings(console_session_idle_timeout_s=7200, console_session_absolute_timeout_s=3600)
