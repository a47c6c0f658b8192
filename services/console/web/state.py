"""What the console holds while it runs: its clients to the services, catalogues, templates,
static files and clock. Made at start by the router lifespan below (the shared app factory
builds the app; the console adds its parts through its routers)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment

from services.console import i18n
from services.console.apis.client import Upstreams
from services.console.web.static import StaticFiles
from services.console.web.templates import environment
from shared.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleState:
    settings: Settings
    upstreams: Upstreams
    catalogues: dict[i18n.Language, i18n.Catalogue]
    templates: Environment
    static: StaticFiles
    # The session timeouts read the time here: tests move it instead of sleeping.
    clock: Callable[[], datetime] = field(default=utc_now)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # httpx logs every call at INFO: a page makes several, and the services log them anyway.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    static = StaticFiles()
    console = ConsoleState(
        settings=settings,
        # Tests set `console_transports` before start to route calls to in-process services.
        upstreams=Upstreams(settings, getattr(app.state, "console_transports", None)),
        catalogues=i18n.load_all(strict=settings.console_strict_translations),
        templates=environment(static, strict=settings.console_strict_translations),
        static=static,
    )
    app.state.console = console
    try:
        yield
    finally:
        await console.upstreams.aclose()


def console_of(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


# The first of the console's routers: it carries the lifespan that makes the state above.
router = APIRouter(lifespan=lifespan)
