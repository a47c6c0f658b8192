"""Settings fail fast; tokens carry roles and scope."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from shared.auth import Role, decode_token, mint_token
from shared.problems import Unauthorized
from shared.settings import Settings
from tests.production_secrets import CERTIFICATE_KEY, JWT_SECRET, KEYS


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="JWT"):
        Settings(
            env="production", database_url="postgresql://db/x", kafka_bootstrap_servers="k:9092"
        )


def test_an_empty_value_in_an_env_file_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`LABOURX_JWT_JWKS_URL=` must not pass for a JWKS URL and let the development secret in."""
    monkeypatch.setenv("LABOURX_JWT_JWKS_URL", "")
    monkeypatch.setenv("LABOURX_CERTIFICATE_KEY", " ")
    assert (Settings().jwt_jwks_url, Settings().certificate_key) == (None, None)
    with pytest.raises(ValidationError, match="JWT"):
        Settings(
            env="production",
            database_url="postgresql://db/x",
            kafka_bootstrap_servers="k:9092",
            public_base_url="https://labourx.example.la",
        )


def test_production_needs_a_certificate_key_and_the_public_address() -> None:
    """A certificate printed with a development key or link could never be verified later."""
    production = Settings(
        database_url="postgresql://db/x",
        kafka_bootstrap_servers="k:9092",
        jwt_secret=SecretStr(JWT_SECRET),
    ).model_dump() | {"env": "production", **KEYS, "certificate_key": None}
    with pytest.raises(ValidationError, match="LABOURX_CERTIFICATE_KEY"):
        Settings.model_validate(production)
    with pytest.raises(ValidationError, match="LABOURX_PUBLIC_BASE_URL"):
        Settings.model_validate(production | {"certificate_key": CERTIFICATE_KEY})
    settings = Settings.model_validate(
        production
        | {"certificate_key": CERTIFICATE_KEY, "public_base_url": "https://labourx.example.la"}
    )
    assert settings.public_base_url == "https://labourx.example.la"


def test_each_service_gets_its_own_database() -> None:
    settings = Settings(database_url="postgresql://u:p@db:5432/anything", database_prefix="lx_")
    assert settings.service_database_url("registry") == (
        "postgresql+asyncpg://u:p@db:5432/lx_registry"
    )
    # A socket directory in the query (the embedded PostgreSQL's form) stays as written.
    socket = Settings(database_url="postgresql://postgres:@/postgres?host=/run/pg")
    assert socket.service_database_url("notify").endswith("/labourx_notify?host=/run/pg")
    assert socket.admin_database_url() == "postgresql+asyncpg://postgres:@/postgres?host=/run/pg"


def test_a_minted_token_round_trips_with_roles_and_scope() -> None:
    settings = Settings()
    token = mint_token(
        settings, subject="u1", roles=["esc_staff"], office="ESC-VT", province="LA-VT"
    )
    principal = decode_token(settings, token)
    assert principal.roles == {Role.ESC_STAFF}
    assert principal.can_see_province("LA-VT")
    assert not principal.can_see_province("LA-SV")


def test_national_scope_sees_every_province() -> None:
    settings = Settings()
    principal = decode_token(
        settings, mint_token(settings, subject="n", roles=["analyst"], national=True)
    )
    assert principal.can_see_province("LA-SV")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint_token(
        Settings(jwt_secret="another-secret-of-enough-length-32b"), subject="x", roles=[]
    )
    with pytest.raises(Unauthorized):
        decode_token(Settings(), token)
