"""Starting and ending a session, the same for every way of signing in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.console import i18n
from services.console.sessions import service as sessions
from services.console.web.page import Page, console_db, local_target, session_cookie

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.responses import Response

    from services.console.sessions.domain import Officer


async def begin_session(
    page: Page,
    officer: Officer,
    *,
    method: str,
    next: str | None,
    keep: Callable[[AsyncSession, str], Awaitable[None]] | None = None,
) -> Response:
    """Sign `officer` in: a new session (a new id, whatever this browser had before: no
    session fixation), its cookie, and on to where they were going. `keep(db, cookie)` stores
    what the way of signing in keeps with the session, in the same transaction (OpenID
    Connect: the provider's refresh and ID tokens)."""
    now = page.console.clock()
    language = page.language if page.language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    async with console_db(page.request) as db:
        if page.session_hash is not None:
            await sessions.end(db, page.session_hash, "replaced", now=now)
        cookie = await sessions.start(db, officer, method=method, language=language, now=now)
        if keep is not None:
            await keep(db, cookie)
    # No Max-Age: the cookie goes when the browser closes; the server ends the session
    # anyway after the idle and absolute timeouts.
    page.set_cookie(session_cookie(page.secure), cookie)
    return page.redirect(local_target(next))


async def end_session(page: Page) -> Response:
    if page.session_hash is not None:
        async with console_db(page.request) as db:
            await sessions.end(db, page.session_hash, "signed_out", now=page.console.clock())
    page.set_cookie(session_cookie(page.secure), None)
    return page.redirect("/sign-in?ended=signed_out")
