"""How OpenID Connect sign-in is set up: production refuses to start without it, half a
configuration is refused, and a provider that is down or not the configured one is a page in
the officer's language, not a trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr, ValidationError

from labourx.catalog import load
from shared.app import create_app
from shared.infra import free_port
from shared.settings import Settings
from tests.console.conftest import CONSOLE_URL
from tests.console.oidc.conftest import oidc_settings, started
from tests.production_secrets import CONSOLE_OIDC_CLIENT_SECRET, KEYS

if TYPE_CHECKING:
    from tests.console.oidc.provider import RunningProvider

PRODUCTION = {
    "env": "production",
    "database_url": "postgresql://labourx@db/postgres",
    "kafka_bootstrap_servers": "kafka:9092",
    "jwt_jwks_url": "https://id.example.la/realms/labourx/protocol/openid-connect/certs",
    **KEYS,
    "public_base_url": "https://labourx.la/predeparture",
}
SIGN_IN = {
    "console_oidc_issuer": "https://id.example.la/realms/labourx",
    "console_oidc_client_id": "labourx-console",
    "console_oidc_client_secret": CONSOLE_OIDC_CLIENT_SECRET,
    "console_public_url": "https://console.labourx.la",
}


async def test_a_production_console_refuses_to_start_without_openid_connect(
    console_settings: Settings,
) -> None:
    production = console_settings.model_copy(update={"env": "production"})
    app = create_app(load("console"), production)
    with pytest.raises(RuntimeError, match="LABOURX_CONSOLE_OIDC_ISSUER"):
        async with app.router.lifespan_context(app):
            pass
    configured = production.model_copy(
        update={**SIGN_IN, "console_oidc_client_secret": SecretStr(CONSOLE_OIDC_CLIENT_SECRET)}
    )
    app = create_app(load("console"), configured)
    async with app.router.lifespan_context(app):
        pass  # starts


def test_production_settings_with_openid_connect_are_accepted_and_turn_it_on() -> None:
    settings = Settings.model_validate(PRODUCTION | SIGN_IN)
    assert settings.console_oidc_missing() == []
    assert not settings.console_dev_sign_in_enabled


def test_half_an_openid_connect_configuration_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="also needs LABOURX_CONSOLE_OIDC_CLIENT_SECRET"):
        Settings.model_validate(
            {k: v for k, v in SIGN_IN.items() if k != "console_oidc_client_secret"}
        )


@pytest.mark.parametrize(
    "url", ["console.labourx.la", "https://labourx.la/console", "ftp://console.labourx.la"]
)
def test_the_console_public_url_is_an_address_without_a_path(url: str) -> None:
    with pytest.raises(ValidationError, match="LABOURX_CONSOLE_PUBLIC_URL"):
        Settings.model_validate(SIGN_IN | {"console_public_url": url})
    with_slash = SIGN_IN | {"console_public_url": "https://console.labourx.la/"}
    assert Settings.model_validate(with_slash).console_public_url == "https://console.labourx.la"


async def test_a_provider_that_does_not_answer_is_a_page_in_lao(
    console_settings: Settings, oidc_provider: RunningProvider
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    settings = oidc_settings(console_settings, oidc_provider, console_oidc_issuer=nobody)
    async with (
        started(settings, oidc_provider) as console,
        console.browser() as browser,
    ):
        answer = await browser.get(f"{CONSOLE_URL}/sign-in/oidc")
    assert answer.status_code == 503
    assert "ບໍລິການເຂົ້າສູ່ລະບົບບໍ່ຕອບສະໜອງ" in answer.text


async def test_a_discovery_document_of_another_issuer_is_refused(
    console_settings: Settings, oidc_provider: RunningProvider
) -> None:
    """A discovery URL that leads to some other provider must not make the console trust it."""
    settings = oidc_settings(
        console_settings,
        oidc_provider,
        console_oidc_issuer="https://id.example.la/realms/labourx",
        console_oidc_discovery_url=f"{oidc_provider.issuer}/.well-known/openid-configuration",
    )
    async with (
        started(settings, oidc_provider) as console,
        console.browser() as browser,
    ):
        answer = await browser.get(f"{CONSOLE_URL}/sign-in/oidc")
    assert answer.status_code == 502
    assert "ການເຂົ້າສູ່ລະບົບບໍ່ສຳເລັດ" in answer.text
    assert "https://id.example.la/realms/labourx" in answer.text


async def test_without_openid_connect_configured_its_addresses_are_not_found(
    console_settings: Settings, oidc_provider: RunningProvider
) -> None:
    settings = console_settings.model_copy(update={"console_dev_sign_in": True})
    async with (
        started(settings, oidc_provider) as console,
        console.browser() as browser,
    ):
        page = await browser.get(f"{CONSOLE_URL}/sign-in")
        assert "/sign-in/oidc" not in page.text
        assert (await browser.get(f"{CONSOLE_URL}/sign-in/oidc")).status_code == 404
