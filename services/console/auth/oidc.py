"""Signing officers in with OpenID Connect (production): authorization code with PKCE (S256)
through Authlib, against the provider the settings name (LABOURX_CONSOLE_OIDC_*).

- `GET /sign-in/oidc?next=...` sends the officer to the provider; the sign-in's state, nonce
  and PKCE verifier stay in the console's database, bound to this browser by a cookie.
- `GET /sign-in/oidc/callback` checks the state, exchanges the code, verifies the ID token,
  reads the officer from the access token as the services do (shared/auth.py's claims
  mapping) and starts a session holding that token: it never reaches the browser.
- Each page refreshes the token before it runs out (oidc_grants.fresh, from web/page.py).
- Sign-out ends the console's session and, when the provider offers it, the officer's
  session there too (RP-initiated logout).

A console in production refuses to start unless this is configured (and the development
sign-in is off: shared/settings.py).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import FastAPI, Query

from services.console.auth import oidc_grants
from services.console.auth.oidc_provider import (
    FLOW_TTL_S,
    SIGNED_OUT_PATH,
    ProviderRefused,
    ProviderUnavailable,
    provider_of,
)
from services.console.auth.signin import begin_session, end_session
from services.console.i18n import _
from services.console.sessions.domain import new_secret
from services.console.web.api import console_router
from services.console.web.page import Page, PageDep, console_db, local_target
from services.console.web.routing import not_found
from shared.ratelimit import RateLimited, client_address, limiter_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.responses import Response

    from shared.settings import Settings

log = logging.getLogger(__name__)
# The rate limit failed sign-ins count against (shared/ratelimit.py).
SIGN_IN_LIMIT = "console_sign_in"


def enabled(settings: Settings) -> bool:
    """Whether the sign-in page offers OpenID Connect: all of it is configured."""
    return not settings.console_oidc_missing()


@asynccontextmanager
async def _refuse_production_without_sign_in(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.env == "production" and (missing := settings.console_oidc_missing()):
        # Without it no one could sign in (the development page is never on in production).
        raise RuntimeError(
            f"the console needs OpenID Connect sign-in in production: set {', '.join(missing)}"
            " (docs/operations.md, 'Signing staff in (OpenID Connect)')"
        )
    yield


router = console_router()
router.lifespan_context = _refuse_production_without_sign_in


@router.get("/sign-in/oidc")
async def sign_in(
    page: PageDep, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """Off to the provider to sign in; back at the callback below."""
    settings = page.console.settings
    if not enabled(settings):
        return not_found(page)
    target = local_target(next)
    if page.officer is not None:
        return page.redirect(target)
    try:
        url, state, data = await provider_of(page.request.app).authorization()
    except (ProviderUnavailable, ProviderRefused) as exc:
        return _provider_problem(page, exc)
    # One cookie per browser, kept across sign-ins started in several tabs at once.
    cookie = oidc_grants.flow_cookie(page.secure)
    browser = page.request.cookies.get(cookie) or ""
    if len(browser) < 32:
        browser = new_secret()
    async with console_db(page.request) as db:
        await oidc_grants.start_flow(
            db, browser, state=state, data=data, next=target, now=page.console.clock()
        )
    page.set_cookie(cookie, browser, max_age=FLOW_TTL_S)
    return page.redirect(url)


# What a provider may put in the callback's address (RFC 6749 4.1.2, RFC 9207's `iss`,
# Keycloak's `session_state`): the app refuses query parameters a route does not name.
Param = Annotated[str | None, Query(max_length=4000)]


@router.get("/sign-in/oidc/callback")
async def callback(
    page: PageDep,
    code: Param = None,
    state: Param = None,
    iss: Param = None,
    error: Param = None,
    error_description: Param = None,
    error_uri: Param = None,
    session_state: Param = None,
) -> Response:
    """The provider sends the officer back here with a code (or an error) and the state;
    Authlib reads them from the request itself."""
    settings = page.console.settings
    if not enabled(settings):
        return not_found(page)
    request = page.request
    # Failed sign-ins count per client address (LABOURX_RATE_LIMIT_CONSOLE_SIGN_IN); past the
    # limit nothing is read or sent to the provider until the window frees up.
    limiter, address = limiter_of(request), client_address(request)
    try:
        await limiter.check(SIGN_IN_LIMIT, address)
    except RateLimited as exc:
        return _too_many_failed(page, exc)
    now = page.console.clock()
    async with console_db(request) as db:
        flow = await oidc_grants.take_flow(
            db,
            request.cookies.get(oidc_grants.flow_cookie(page.secure)),
            state,
            now=now,
        )
    if flow is None:
        await limiter.count(SIGN_IN_LIMIT, address)
        return _flow_lost(page)
    if error:
        # The officer cancelled at the provider, or it would not sign them in.
        return _not_signed_in(page, error, error_description, next=flow.next)
    try:
        tokens = await provider_of(request.app).finish(request, flow.state, flow.data)
        officer = await oidc_grants.officer_from(settings, tokens)
    except (ProviderUnavailable, ProviderRefused) as exc:
        if isinstance(exc, ProviderRefused):  # a code or token that did not hold
            await limiter.count(SIGN_IN_LIMIT, address)
        return _provider_problem(page, exc, next=flow.next)
    except oidc_grants.NotStaff as exc:
        await limiter.count(SIGN_IN_LIMIT, address)
        log.warning("console sign-in refused: %s", exc)
        return _not_staff(page, exc)

    async def keep_tokens(db: AsyncSession, session_cookie: str) -> None:
        await oidc_grants.keep(db, session_cookie, tokens, now=now)

    return await begin_session(
        page, officer, method=oidc_grants.METHOD, next=flow.next, keep=keep_tokens
    )


async def sign_out(page: Page) -> Response:
    """End the console's session; for an officer signed in here, also their session at the
    provider, which then sends them back to the sign-in page."""
    id_token, signed_in_here = None, False
    if page.session_hash is not None and enabled(page.console.settings):
        async with console_db(page.request) as db:
            signed_in_here, id_token = await oidc_grants.forget(db, page.session_hash)
    signed_out = await end_session(page)
    if not signed_in_here:
        return signed_out
    url = await provider_of(page.request.app).sign_out_url(id_token)
    if url is None:
        return signed_out
    if page.htmx:
        return page.redirect(url)
    # A page that moves on by itself rather than a redirect: the form's page allows form posts
    # to this site alone (CSP form-action), and browsers hold a redirect after one to that.
    # (`Refresh` is the header form of <meta http-equiv="refresh">; the link is for the rest.)
    page.officer = None
    response = page.render("auth/oidc_sign_out.html", provider_url=url)
    response.headers["Refresh"] = f"0; url={url}"
    return response


@router.get(SIGNED_OUT_PATH)
async def signed_out(page: PageDep, state: Param = None) -> Response:
    """Back from signing out at the provider, which adds a `state` to the address (nothing
    rides on it here: the officer is signed out either way)."""
    return page.redirect("/sign-in?ended=signed_out")


def _too_many_failed(page: Page, exc: RateLimited) -> Response:
    """Refused before anything is read: too many failed sign-ins from this client address."""
    refusal = _problem(
        page,
        429,
        _("Too many failed sign-ins"),
        _("Sign-ins from here failed too often. Wait a while, then start again."),
    )
    refusal.headers.update(exc.headers)
    return refusal


def _flow_lost(page: Page) -> Response:
    """No sign-in started in this browser matches the callback's state."""
    return _problem(
        page,
        400,
        _("This sign-in cannot be finished"),
        _(
            "It was started in another browser, or too long ago, or the address was"
            " changed on the way. You are not signed in. Start again."
        ),
    )


def _not_signed_in(page: Page, error: str, description: str | None, *, next: str) -> Response:
    """The provider answered with an error instead of a code."""
    return _problem(
        page,
        403,
        _("You were not signed in"),
        _("The sign-in service did not sign you in. Start again, or ask your administrator."),
        f"{error}: {description}" if description else error,
        next=next,
    )


def _not_staff(page: Page, exc: oidc_grants.NotStaff) -> Response:
    """Signed in at the provider, but not as someone who may use the console."""
    return _problem(
        page,
        403,
        _("Your account cannot use the console"),
        _(
            "You signed in, but your account has no labourx staff role, or is not set up"
            " as labourx needs (your office and province). Ask your administrator."
        ),
        str(exc),
    )


def _provider_problem(
    page: Page, exc: ProviderUnavailable | ProviderRefused, next: str = "/"
) -> Response:
    if isinstance(exc, ProviderUnavailable):
        log.warning("identity provider unavailable: %s", exc)
        return _problem(
            page,
            503,
            _("The sign-in service is not answering"),
            _("Check the connection and try again in a moment."),
            next=next,
        )
    log.error("identity provider refused: %s", exc)
    return _problem(
        page,
        502,
        _("Signing in failed"),
        _(
            "The sign-in service's answer was refused by the console. Nothing was changed."
            " Try again; if it happens again, tell your administrator."
        ),
        str(exc),
        next=next,
    )


def _problem(
    page: Page,
    status: int,
    title: str,
    message: str,
    detail: str | None = None,
    *,
    next: str = "/",
) -> Response:
    """A page saying why the officer is not signed in, with a way to start again."""
    return page.render(
        "auth/oidc_problem.html", status, title=title, message=message, detail=detail, next=next
    )
