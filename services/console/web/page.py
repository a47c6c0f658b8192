"""The page being answered: who is signed in, in which language, its CSRF token, and how to
render a template or redirect. Every console route takes `PageDep` or `OfficerPageDep`."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.console import i18n
from services.console.apis.client import Api
from services.console.auth import oidc_grants
from services.console.sessions import service as sessions
from services.console.sessions.domain import Officer, new_secret
from services.console.web.state import ConsoleState, console_of
from services.console.web.templates import gettext_callables

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANGUAGE_COOKIE = "labourx-language"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No open session: the officer is sent to the sign-in page (and back afterwards)."""

    def __init__(self, ended: str | None = None) -> None:
        super().__init__(ended or "signed out")
        self.ended = ended


class CsrfRefused(Exception):
    """An unsafe request without this browser's CSRF token: refused, nothing done."""


def session_cookie(secure: bool) -> str:
    # `__Host-`: the browser keeps it only if Secure, for this host alone, on path / (no
    # subdomain or other path can plant or read one).
    return "__Host-labourx-session" if secure else "labourx-session"


def csrf_cookie(secure: bool) -> str:
    return "__Host-labourx-csrf" if secure else "labourx-csrf"


@dataclass
class Page:
    request: Request
    console: ConsoleState
    language: i18n.Language
    catalogue: i18n.Catalogue
    csrf_token: str
    officer: Officer | None = None
    session_hash: str | None = None
    # Why the session this browser had was ended (idle, expired, ...), when it just was.
    ended: str | None = None
    cookies: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)

    @property
    def htmx(self) -> bool:
        """An htmx request: answer with the fragment it swaps in, not the whole page."""
        return self.request.headers.get("HX-Request") == "true"

    @property
    def secure(self) -> bool:
        return self.console.settings.console_cookies_secure

    @property
    def api(self) -> Api:
        """The services, called with this officer's token."""
        if self.officer is None:
            raise SignInRequired()
        return Api(self.console.upstreams, self.officer.token, self.language)

    def set_cookie(self, name: str, value: str | None, **options: Any) -> None:
        """Set (or, with None, delete) a cookie on whatever response this page ends with."""
        self.cookies.append((name, value, options))

    def apply_cookies(self, response: Response) -> None:
        for name, value, options in self.cookies:
            if value is None:
                response.delete_cookie(
                    name, path="/", secure=self.secure, httponly=True, samesite="lax"
                )
            else:
                response.set_cookie(
                    name,
                    value,
                    path="/",
                    secure=self.secure,
                    httponly=options.get("httponly", True),
                    samesite="lax",
                    max_age=options.get("max_age"),
                )

    def context(self, **values: Any) -> dict[str, Any]:
        return {
            **gettext_callables(self.catalogue),
            "language": self.language,
            "languages": i18n.LANGUAGES,
            "officer": self.officer,
            "csrf_token": self.csrf_token,
            "request_path": self.request.url.path,
            "request_url": _local(str(self.request.url.path), self.request.url.query),
            "dev_sign_in": self.console.settings.console_dev_sign_in_enabled,
            **values,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = self.console.templates.get_template(template).render(self.context(**values))
        return HTMLResponse(body, status_code=status)

    def redirect(self, url: str) -> Response:
        """After a POST, or to the sign-in page: 303 for a browser, HX-Redirect for htmx (which
        would otherwise follow it and swap the whole page into a fragment's place)."""
        if self.htmx:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)


def _local(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def local_target(value: str | None, default: str = "/") -> str:
    """Where to go after sign-in or a language change: a path on this site, nothing else (an
    open redirect would let a link sign an officer in and send them to a lookalike)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def sign_in_url(request: Request, ended: str | None = None) -> str:
    target = _local(request.url.path, request.url.query)
    if request.method not in SAFE_METHODS or request.headers.get("HX-Request") == "true":
        # Back to the page the officer was on, not to the fragment or form post it sent.
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = _local(shown.path, shown.query) if shown.path else "/"
    url = f"/sign-in?next={quote(local_target(target), safe='/')}"
    return f"{url}&ended={ended}" if ended else url


async def _page(request: Request) -> Page:
    cached: Page | None = getattr(request.state, "page", None)
    if cached is not None:
        return cached
    console = console_of(request)
    settings = console.settings
    secure = settings.console_cookies_secure
    officer, session_hash, csrf, ended = None, None, None, None
    language = i18n.as_language(request.cookies.get(LANGUAGE_COOKIE))
    if cookie := request.cookies.get(session_cookie(secure)):
        async with console_db(request) as db:
            record = await sessions.find(db, cookie, now=console.clock(), settings=settings)
            if record is None:
                ended = await sessions.end_reason(db, cookie)
            else:
                officer, session_hash = sessions.officer(record), record.id_hash
                csrf, language = record.csrf_token, i18n.as_language(record.language)
        if officer is not None and record is not None and record.method == oidc_grants.METHOD:
            # Signed in with OpenID Connect: the access token is refreshed before it runs out,
            # or the session ends when it cannot be (services/console/auth/oidc_grants.py).
            renewed = await oidc_grants.fresh(request, record.id_hash, officer)
            if renewed.officer is None:
                # (The CSRF token stays the session's: a form sent with it now goes to the
                # sign-in page rather than being refused as forged.)
                officer, session_hash, ended = None, None, renewed.ended
            else:
                officer = renewed.officer
    language = language or i18n.DEFAULT_LANGUAGE
    catalogue = console.catalogues[language]
    i18n.use(catalogue)
    page = Page(request, console, language, catalogue, csrf or "", officer, session_hash, ended)
    if cookie and officer is None:
        page.set_cookie(session_cookie(secure), None)
    if csrf is None:
        # Signed out: the token is a cookie of its own, echoed in each form (double submit),
        # so the sign-in and language forms cannot be posted from another site either.
        csrf = request.cookies.get(csrf_cookie(secure)) or ""
        if len(csrf) < 32:
            csrf = new_secret()
            page.set_cookie(csrf_cookie(secure), csrf)
        page.csrf_token = csrf
    request.state.page = page
    return page


@asynccontextmanager
async def console_db(request: Request) -> AsyncIterator[AsyncSession]:
    """A short transaction on the console's own database (sessions only): never held open
    while a service is called."""
    async with request.app.state.sessions() as db, db.begin():
        yield db


async def _checked_page(request: Request) -> Page:
    """The page, after refusing an unsafe request that lacks this browser's CSRF token."""
    page = await _page(request)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()  # Starlette keeps it: the route reads it again free
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent.encode(), page.csrf_token.encode()):
            raise CsrfRefused()
    return page


async def _officer_page(page: Annotated[Page, Depends(_checked_page)]) -> Page:
    if page.officer is None:
        raise SignInRequired(page.ended)
    return page


# Every console route takes one of these: the CSRF check runs for each unsafe request.
PageDep = Annotated[Page, Depends(_checked_page)]
OfficerPageDep = Annotated[Page, Depends(_officer_page)]
# For a router's `dependencies`: no route of it can forget the CSRF check.
CSRF_CHECKED = Depends(_checked_page)
