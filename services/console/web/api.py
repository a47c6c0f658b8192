"""The console's own plumbing routes: static files, the language switch, and the not-found
page for any other address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.console import i18n
from services.console.sessions import service as sessions
from services.console.web.page import (
    CSRF_CHECKED,
    LANGUAGE_COOKIE,
    PageDep,
    console_db,
    local_target,
)
from services.console.web.routing import ConsoleRoute, not_found
from services.console.web.state import console_of
from services.console.web.state import router as static_router

ONE_YEAR = 365 * 24 * 3600


def console_router() -> APIRouter:
    """A router of console pages: errors as pages, and the CSRF check on every unsafe request."""
    return APIRouter(route_class=ConsoleRoute, dependencies=[CSRF_CHECKED], include_in_schema=False)


# Static files need no session (and no database round trip): a router of their own, which
# also carries the console's lifespan (state.py).
@static_router.get("/static/{version}/{name:path}", include_in_schema=False)
async def static_file(version: str, name: str, request: Request) -> Response:
    found = console_of(request).static.response(
        version, name, request.headers.get("accept-encoding", "")
    )
    return found or Response(status_code=404)


router = console_router()


@router.post("/language")
async def switch_language(
    page: PageDep,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Show the console in another language; kept in the session, and in a cookie so the
    choice holds on the sign-in page too."""
    chosen = i18n.as_language(language) or i18n.DEFAULT_LANGUAGE
    page.set_cookie(LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR)
    if page.session_hash is not None:
        async with console_db(page.request) as db:
            await sessions.set_language(db, page.session_hash, chosen)
    return page.redirect(local_target(next))


fallback_router = console_router()


@fallback_router.get("/{path:path}")
async def nothing_here(path: str, page: PageDep) -> Response:
    return not_found(page)
