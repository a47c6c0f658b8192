"""How every console route answers: errors as pages in the officer's language (never a stack
trace or a JSON problem), security headers, no caching of pages with people's data, and gzip
(the shared app factory adds no middleware for one service, so the console's route class
does this for its own routes only)."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from services.console import i18n
from services.console.apis.errors import (
    ApiError,
    NotAllowed,
    NotFound,
    Rejected,
    TokenRefused,
    Unavailable,
)
from services.console.sessions import service as sessions
from services.console.web.page import (
    LANGUAGE_COOKIE,
    CsrfRefused,
    Page,
    SignInRequired,
    console_db,
    session_cookie,
    sign_in_url,
)
from services.console.web.state import console_of
from shared import dberrors
from shared.problems import RETRY_AFTER_S, Problem

log = logging.getLogger(__name__)

# Scripts, styles, fonts and forms from the console alone: no CDN, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'; object-src 'none'"
)
_COMPRESS_AT_LEAST = 860  # bytes; smaller answers gain nothing from gzip


class ConsoleRoute(APIRoute):
    """The route class of every console router."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except i18n.MissingTranslation:
                raise  # strict mode (tests): a Lao page with an English string fails loudly
            except Exception as exc:
                response = await error_page(request, exc)
            page: Page | None = getattr(request.state, "page", None)
            if page is not None:
                page.apply_cookies(response)
            _secure(response)
            return _compressed(request, response)

        return answer


def _secure(response: Response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    # Pages show people's records: not kept by the browser (a shared office computer, the
    # back button after sign-out) nor by any proxy on the way.
    headers.setdefault("Cache-Control", "no-store")


def _compressed(request: Request, response: Response) -> Response:
    body = getattr(response, "body", None)
    if (
        not isinstance(body, bytes)
        or len(body) < _COMPRESS_AT_LEAST
        or "content-encoding" in response.headers
        or "gzip" not in request.headers.get("accept-encoding", "")
    ):
        return response
    packed = gzip.compress(body, 6, mtime=0)
    response.body = packed
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(packed))
    response.headers.append("Vary", "Accept-Encoding")
    return response


async def fallback_page(request: Request) -> Page:
    """A page to answer with when the usual one could not be made (its error is the answer)."""
    page: Page | None = getattr(request.state, "page", None)
    if page is not None:
        return page
    console = console_of(request)
    language = i18n.as_language(request.cookies.get(LANGUAGE_COOKIE)) or i18n.DEFAULT_LANGUAGE
    catalogue = console.catalogues[language]
    i18n.use(catalogue)
    return Page(request, console, language, catalogue, csrf_token="")


async def error_page(request: Request, exc: Exception) -> Response:
    """The page for what went wrong, in the officer's language."""
    page = await fallback_page(request)
    _ = page.catalogue.gettext
    if isinstance(exc, SignInRequired):
        return page.redirect(sign_in_url(request, exc.ended))
    if isinstance(exc, TokenRefused):
        # The service no longer takes this officer's token: the session is over.
        if page.session_hash is not None:
            async with console_db(request) as db:
                now = page.console.clock()
                await sessions.end(db, page.session_hash, "token_rejected", now=now)
            page.set_cookie(session_cookie(page.secure), None)
        return page.redirect(sign_in_url(request, "token_rejected"))
    if isinstance(exc, CsrfRefused):
        return problem_page(
            page,
            403,
            title=_("This form has expired"),
            message=_(
                "The form was sent without the code that shows it came from this page (or it"
                " was opened before you signed in again). Nothing was saved. Go back, reload"
                " the page and send it again."
            ),
        )
    if isinstance(exc, NotAllowed):
        return not_allowed(page, exc.detail)
    if isinstance(exc, NotFound):
        return not_found(page, exc.detail)
    if isinstance(exc, Unavailable):
        return unavailable(page, exc)
    if isinstance(exc, Problem):  # the app's own checks, e.g. a query parameter it does not take
        return problem_page(
            page,
            exc.status,
            title=_("This was not accepted"),
            message=_("The address of this page is not right. Nothing was saved."),
            detail=exc.detail,
        )
    if isinstance(exc, Rejected | ApiError):
        return problem_page(
            page,
            exc.status,
            title=_("This was not accepted"),
            message=_("The service refused the request. Nothing was saved."),
            detail=exc.detail,
        )
    if dberrors.is_unavailable(exc):
        # The console's own database (its sign-in sessions) is down or restarting: the same
        # "try again" as a service that does not answer, not a 500 (issue 17).
        log.warning("console database unavailable: %r", exc)
        answer = unavailable(page, Unavailable("console", 503, None))
        answer.headers["Retry-After"] = str(RETRY_AFTER_S)
        return answer
    log.exception("console page failed", exc_info=exc)
    return problem_page(
        page,
        500,
        title=_("Something went wrong"),
        message=_("The page could not be shown. Nothing was saved. Try again in a moment."),
    )


def problem_page(
    page: Page, status: int, *, title: str, message: str, detail: str | None = None
) -> Response:
    """The console's error page: what went wrong (`title` and `message`, translated) and, for
    whoever supports the officer, the service's own words (`detail`)."""
    return page.render("errors/error.html", status, title=title, message=message, detail=detail)


def not_allowed(page: Page, detail: str | None = None) -> Response:
    """403: outside what the officer's role and office may see."""
    _ = page.catalogue.gettext
    return problem_page(
        page,
        403,
        title=_("You cannot see this"),
        message=_(
            "This is outside what your role and office may see. If you serve this"
            " person, record their visit at your office first."
        ),
        detail=detail,
    )


def not_found(page: Page, detail: str | None = None) -> Response:
    _ = page.catalogue.gettext
    return problem_page(
        page,
        404,
        title=_("Page not found"),
        message=_("There is nothing at this address. Check it, or start again from the home page."),
        detail=detail,
    )


SERVICE_NAMES = {
    "registry": i18n.N_("the people register (registry)"),
    "matching": i18n.N_("jobs and referrals (matching)"),
    "predeparture": i18n.N_("pre-departure orientation (predeparture)"),
    "notify": i18n.N_("messages (notify)"),
    "identity_provider": i18n.N_("the sign-in service (identity provider)"),
    "console": i18n.N_("the console's own database"),
}


def unavailable(page: Page, exc: ApiError) -> Response:
    _ = page.catalogue.gettext
    service = _(SERVICE_NAMES.get(exc.service, exc.service))
    return problem_page(
        page,
        503,
        title=_("A service is not answering"),
        message=_(
            "The console could not reach %(service)s. Nothing was saved. Check the connection"
            " and try again in a moment; what you typed is still in the form if you go back."
        )
        % {"service": service},
    )
