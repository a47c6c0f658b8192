"""The identity provider, as the console's OpenID Connect client talks to it: Authlib's
Starlette client (over httpx), authorization code with PKCE (S256), the ID token verified.

Authlib keeps a sign-in's state, nonce and PKCE verifier in `request.session`; the console
has no cookie session for that (its sessions are rows in its database), so each call below
hands Authlib a session made of one sign-in's data, which oidc_grants.py keeps server-side.
"""

from __future__ import annotations

import time
import warnings
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc.errors import JoseError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI, Request

    from shared.settings import Settings

with warnings.catch_warnings():
    # Authlib 1.9 asks for the httpx2 fork and falls back to httpx, which the rest of labourx
    # uses: its warning says nothing an operator can act on.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError

NAME = "labourx"
CALLBACK_PATH = "/sign-in/oidc/callback"
# Where the provider sends the officer after signing out of it (then on to the sign-in page).
SIGNED_OUT_PATH = "/sign-in/oidc/signed-out"
# How long an officer has to sign in at the provider before the flow is forgotten.
FLOW_TTL_S = 600


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered with a server error: try again later."""


class ProviderRefused(Exception):
    """The provider, or what it sent, was refused: a sign-in that must start again."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    # The ID token's claims (verified) when there was one.
    identity: dict[str, Any]


class Provider:
    """One registered client of the provider the settings name; its discovery document and
    keys are fetched on first use (the console starts even while the provider is down)."""

    def __init__(self, settings: Settings) -> None:
        # A configuration check, not an invariant: it must hold under python -O too.
        if not settings.console_oidc_issuer or not settings.console_oidc_client_secret:
            raise RuntimeError(
                "OpenID Connect sign-in to the console needs LABOURX_CONSOLE_OIDC_ISSUER"
                " and LABOURX_CONSOLE_OIDC_CLIENT_SECRET"
            )
        self.settings = settings
        self.issuer = settings.console_oidc_issuer.rstrip("/")
        discovery = settings.console_oidc_discovery_url or (
            f"{self.issuer}/.well-known/openid-configuration"
        )
        self.client = OAuth().register(
            NAME,
            client_id=settings.console_oidc_client_id,
            client_secret=settings.console_oidc_client_secret.get_secret_value(),
            server_metadata_url=discovery,
            client_kwargs={
                "scope": settings.console_oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": httpx.Timeout(
                    settings.console_api_timeout_s,
                    connect=settings.console_api_connect_timeout_s,
                ),
            },
        )

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.console_public_url}{CALLBACK_PATH}"

    def _resource(self) -> dict[str, str]:
        resource = self.settings.console_oidc_resource
        return {"resource": resource} if resource else {}

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, checked to be the configured issuer's: a discovery URL
        pointing elsewhere must not make the console trust another provider's tokens."""
        async with _talking():
            metadata: dict[str, Any] = await self.client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderRefused(
                f"the discovery document names issuer {metadata.get('issuer')!r}, not"
                f" {self.issuer!r} (LABOURX_CONSOLE_OIDC_ISSUER)"
            )
        return metadata

    async def authorization(self) -> tuple[str, str, dict[str, Any]]:
        """Where to send the officer to sign in: the URL, its state, and what the callback
        needs again (redirect URI, PKCE verifier, nonce)."""
        await self.metadata()
        async with _talking():
            made = await self.client.create_authorization_url(self.redirect_uri, **self._resource())
        url, state = made.pop("url"), made.pop("state")
        return url, state, {"redirect_uri": self.redirect_uri, **made}

    async def finish(self, request: Request, state: str, data: dict[str, Any]) -> Tokens:
        """The callback: Authlib checks the state against the flow's (`data`, found by it),
        exchanges the code with the PKCE verifier, and verifies the ID token (signature by
        the provider's keys, issuer, audience, expiry, nonce, at_hash)."""
        await self.metadata()
        sent_by = request.query_params.get("iss")
        if sent_by is not None and sent_by.rstrip("/") != self.issuer:
            # RFC 9207: an answer from another provider (a mix-up attack) is not ours to use.
            raise ProviderRefused(f"the answer comes from {sent_by!r}, not {self.issuer!r}")
        request.scope["session"] = {
            f"_state_{NAME}_{state}": {"data": data, "exp": time.time() + FLOW_TTL_S}
        }
        async with _talking():
            token = await self.client.authorize_access_token(request, **self._resource())
        if "id_token" not in token:
            raise ProviderRefused("the provider sent no ID token (is `openid` in the scopes?)")
        identity = dict(token["userinfo"])
        return Tokens(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            id_token=token["id_token"],
            identity=identity,
        )

    async def refresh(self, refresh_token: str, id_token: str | None) -> Tokens:
        """New tokens for a session whose access token is running out."""
        await self.metadata()
        async with _talking():
            token = await self.client.fetch_access_token(
                grant_type="refresh_token", refresh_token=refresh_token, **self._resource()
            )
        return Tokens(
            access_token=token["access_token"],
            # Providers that rotate refresh tokens send a new one; others keep the old valid.
            refresh_token=token.get("refresh_token") or refresh_token,
            id_token=token.get("id_token") or id_token,
            identity={},
        )

    async def sign_out_url(self, id_token: str | None) -> str | None:
        """The provider's end-session address (RP-initiated logout), or None if it has none
        (or cannot be reached: the console's own session is ended all the same)."""
        try:
            metadata = await self.metadata()
        except (ProviderUnavailable, ProviderRefused):
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        made = await self.client.create_logout_url(
            post_logout_redirect_uri=f"{self.settings.console_public_url}{SIGNED_OUT_PATH}",
            id_token_hint=id_token,
            client_id=self.settings.console_oidc_client_id,
        )
        return str(made["url"])


@asynccontextmanager
async def _talking() -> AsyncIterator[None]:
    """Errors talking to the provider, as the two kinds the console treats apart."""
    try:
        yield
    except httpx.TransportError as exc:
        raise ProviderUnavailable(type(exc).__name__) from exc
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code >= 500:
            raise ProviderUnavailable(str(exc.response.status_code)) from exc
        raise ProviderRefused(f"{exc.response.status_code} from {exc.request.url}") from exc
    except OAuthError as exc:
        raise ProviderRefused(f"{exc.error}: {exc.description or ''}".strip()) from exc
    except JoseError as exc:
        raise ProviderRefused(f"the ID token was refused: {exc}") from exc
    except ValueError as exc:  # a body that is not the JSON it should be
        raise ProviderUnavailable(f"unreadable answer: {exc}") from exc


def provider_of(app: FastAPI) -> Provider:
    """The console's client of the provider, made on first use."""
    provider: Provider | None = getattr(app.state, "oidc_provider", None)
    if provider is None:
        provider = app.state.oidc_provider = Provider(app.state.settings)
    return provider
