"""The console signing officers in at a real OpenID provider (oidc-provider, run by Node.js),
and the registry accepting that provider's access tokens, verified with its published keys.

The console and the registry run in-process with their real lifespans; the provider is its
own process, reached over HTTP by the console (discovery, token exchange, keys, refresh), by
the registry (keys) and by the test's browser (its login, consent and sign-out forms).
"""

from __future__ import annotations

import re
import warnings
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from pydantic import SecretStr

from labourx.catalog import SERVICES, load
from shared.app import create_app
from tests.console.conftest import CONSOLE_URL
from tests.console.oidc.provider import RunningProvider, running_provider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from fastapi import FastAPI

    from shared.settings import Settings

with warnings.catch_warnings():
    # (Authlib asks for the httpx2 fork; labourx uses httpx: see oidc_provider.py.)
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

CLIENT_ID = "labourx-console"
CLIENT_SECRET = "console-secret-for-the-tests-only-0123456789"
# A client of the tests' own, to be given tokens directly (to call the APIs as a provider's
# officer, or for another audience than labourx's).
TEST_CLIENT_ID = "labourx-tests"
TEST_CLIENT_REDIRECT = "http://127.0.0.1:9/tests-callback"
# RFC 8707 resource indicators the provider issues JWT access tokens for.
LABOURX_API = "urn:labourx:api"
OTHER_API = "urn:other:api"
CALLBACK = f"{CONSOLE_URL}/sign-in/oidc/callback"
SIGNED_OUT = f"{CONSOLE_URL}/sign-in/oidc/signed-out"

# The provider's users, with the claims labourx reads from their access tokens.
ACCOUNTS: dict[str, dict[str, Any]] = {
    # An ESC officer in Champasak.
    "officer-ch": {
        "claims": {"name": "Khamla Vongsa"},
        "labourx": {"roles": ["esc_staff"], "office": "ESC-CH", "province": "LA-CH"},
    },
    # Their tokens last 10 s, within the console's refresh margin (30 s): every page refreshes.
    "officer-sv": {
        "claims": {"name": "Noy Sayavong"},
        "labourx": {"roles": ["mrc_staff"], "office": "MRC-SV", "province": "LA-SV"},
        "accessTokenTTL": 10,
    },
    # No refresh token, and a token of 2 s: signed out when it runs out.
    "officer-vt": {
        "claims": {"name": "Vilay Inthavong"},
        "labourx": {"roles": ["esc_staff"], "office": "ESC-VT", "province": "LA-VT"},
        "accessTokenTTL": 2,
        "refreshToken": False,
    },
    # Known to the provider, but no labourx staff.
    "partner-1": {"claims": {"name": "Partner"}, "labourx": {"roles": ["partner"]}},
    # Staff, but the identity provider's administrator typed a name for the province.
    "officer-typo": {
        "claims": {"name": "Typo"},
        "labourx": {"roles": ["esc_staff"], "office": "ESC-CH", "province": "Champasak"},
    },
}


def provider_config() -> dict[str, Any]:
    return {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [CALLBACK],
                "post_logout_redirect_uris": [SIGNED_OUT],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            },
            {
                "client_id": TEST_CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [TEST_CLIENT_REDIRECT],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
        ],
        "accounts": ACCOUNTS,
        "resources": {
            LABOURX_API: {"audience": "labourx"},
            OTHER_API: {"audience": "another-system"},
        },
    }


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with running_provider(provider_config(), tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


def oidc_settings(settings: Settings, provider: RunningProvider, **changes: Any) -> Settings:
    """Settings of a production-like console and registry: officers sign in at `provider`,
    whose access tokens the services verify with its keys; no development sign-in."""
    return settings.model_copy(
        update={
            "console_dev_sign_in": False,
            "console_oidc_issuer": provider.issuer,
            "console_oidc_client_id": CLIENT_ID,
            "console_oidc_client_secret": SecretStr(CLIENT_SECRET),
            "console_oidc_resource": LABOURX_API,
            "console_public_url": CONSOLE_URL,
            "jwt_jwks_url": provider.jwks_url,
            "jwt_issuer": provider.issuer,
            "jwt_audience": "labourx",
            **changes,
        }
    )


@dataclass
class OidcConsole:
    app: FastAPI
    registry: FastAPI
    settings: Settings
    provider: RunningProvider

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own: the console at CONSOLE_URL, anything else (the provider)
        over the network."""
        return httpx.AsyncClient(
            mounts={CONSOLE_URL: httpx.ASGITransport(app=self.app, raise_app_exceptions=True)},
            timeout=30,
        )

    def registry_client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.registry, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://registry")


@pytest.fixture(scope="session")
async def oidc_console(
    console_settings: Settings, oidc_provider: RunningProvider
) -> AsyncIterator[OidcConsole]:
    async with started(oidc_settings(console_settings, oidc_provider), oidc_provider) as console:
        yield console


@asynccontextmanager
async def started(settings: Settings, provider: RunningProvider) -> AsyncIterator[OidcConsole]:
    """The registry and a console calling it, with `settings`, for as long as the block."""
    async with AsyncExitStack() as stack:
        registry = create_app(SERVICES["registry"], settings)
        await stack.enter_async_context(registry.router.lifespan_context(registry))
        app = create_app(load("console"), settings)
        app.state.console_transports = {
            "registry": httpx.ASGITransport(app=registry, raise_app_exceptions=False)
        }
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield OidcConsole(app, registry, settings, provider)


@pytest.fixture
async def browser(oidc_console: OidcConsole) -> AsyncIterator[httpx.AsyncClient]:
    async with oidc_console.browser() as client:
        yield client


_FORM = re.compile(r'<form[^>]*\saction="([^"]+)"', re.IGNORECASE)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def form_of(page: httpx.Response) -> tuple[str, dict[str, str]]:
    """The provider's form on a page: where it posts, and its hidden fields."""
    found = _FORM.search(page.text)
    assert found, f"no form at {page.url}:\n{page.text[:2000]}"
    return str(page.url.join(found.group(1))), dict(_HIDDEN.findall(page.text))


async def through_provider(
    browser: httpx.AsyncClient, response: httpx.Response, login: str, back_to: str = CALLBACK
) -> str:
    """Follow a redirect to the provider and do what a person does there (type a login and
    a password, then allow the console), until the provider sends the browser back to
    `back_to`: that address, with its code and state, not yet opened."""
    while True:
        if response.is_redirect:
            location = str(response.url.join(response.headers["location"]))
            if location.startswith(back_to):
                return location
            response = await browser.get(location)
            continue
        assert response.status_code == 200, f"{response.url}: {response.status_code}"
        action, fields = form_of(response)
        if fields.get("prompt") == "login":
            fields |= {"login": login, "password": "any password"}
        response = await browser.post(action, data=fields)


async def sign_in_with_provider(
    browser: httpx.AsyncClient, login: str, next: str = "/"
) -> httpx.Response:
    """Sign in to the console as a person would: the console's sign-in page, its link to
    the provider, the provider's forms, and back. The console's answer to the callback."""
    page = await browser.get(f"{CONSOLE_URL}/sign-in", params={"next": next})
    assert page.status_code == 200, page.text
    link = re.search(r'href="(/sign-in/oidc\?next=[^"]*)"', page.text)
    assert link, "the sign-in page offers no OpenID Connect sign-in"
    start = await browser.get(f"{CONSOLE_URL}{link.group(1).replace('&amp;', '&')}")
    assert start.status_code == 303, start.text
    callback = await through_provider(browser, start, login)
    return await browser.get(callback)


async def provider_token(provider: RunningProvider, login: str, resource: str) -> str:
    """An access token the provider issues `login` for `resource`, through the tests' own
    client (authorization code with PKCE, the provider's forms filled in)."""
    async with httpx.AsyncClient(timeout=30) as browser:
        discovery = await browser.get(f"{provider.issuer}/.well-known/openid-configuration")
        metadata = discovery.json()
        async with AsyncOAuth2Client(
            TEST_CLIENT_ID,
            CLIENT_SECRET,
            scope="openid",
            redirect_uri=TEST_CLIENT_REDIRECT,
            code_challenge_method="S256",
        ) as client:
            verifier = generate_token(48)
            url, _state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, resource=resource
            )
            back = await through_provider(
                browser, await browser.get(url), login, back_to=TEST_CLIENT_REDIRECT
            )
            token = await client.fetch_token(
                metadata["token_endpoint"],
                code=httpx.URL(back).params["code"],
                code_verifier=verifier,
                resource=resource,
            )
    access_token: str = token["access_token"]
    return access_token
