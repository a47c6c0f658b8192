"""The console started in-process with the services it calls: registry, matching and notify run as
their own ASGI apps, and the console's HTTP clients are routed to them (real HTTP requests,
the services' real routing, validation, scope and errors: no fakes)."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from labourx.catalog import SERVICES, load
from shared.app import create_app
from shared.db import drop_database
from shared.provision import prepare_databases

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from fastapi import FastAPI

    from services.console.web.state import ConsoleState
    from shared.settings import Settings

# Where the test browser opens the console: https, so the Secure cookies travel as they do in
# an office (httpx, like a browser, keeps a Secure cookie off plain http).
CONSOLE_URL = "https://console.test"
IDLE_S = 600.0
ABSOLUTE_S = 3600.0


@pytest.fixture(scope="session")
async def console_settings(migrated: Settings) -> AsyncIterator[Settings]:
    settings = migrated.model_copy(
        update={
            "console_strict_translations": True,
            "console_session_idle_timeout_s": IDLE_S,
            "console_session_absolute_timeout_s": ABSOLUTE_S,
        }
    )
    await prepare_databases(settings, [load("console")])
    yield settings
    await drop_database(settings, "console")


@dataclass
class Console:
    app: FastAPI
    services: dict[str, FastAPI]

    @property
    def state(self) -> ConsoleState:
        state: ConsoleState = self.app.state.console
        return state

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own: its own cookies, no session yet."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=True),
            base_url=CONSOLE_URL,
            headers={"Accept-Encoding": "gzip"},
        )


@pytest.fixture(scope="session")
async def console(console_settings: Settings) -> AsyncIterator[Console]:
    async with AsyncExitStack() as stack:
        services = {}
        for name in ("registry", "matching", "notify"):
            app = create_app(SERVICES[name], console_settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            services[name] = app
        app = create_app(load("console"), console_settings)
        app.state.console_transports = {
            name: httpx.ASGITransport(app=service, raise_app_exceptions=False)
            for name, service in services.items()
        }
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield Console(app, services)


@pytest.fixture
async def browser(console: Console) -> AsyncIterator[httpx.AsyncClient]:
    async with console.browser() as client:
        yield client


@pytest.fixture
def clock(console: Console) -> Iterator[Callable[[timedelta], None]]:
    """Move the console's clock forward (session timeouts) without sleeping; put back after."""
    start = datetime.now(UTC)
    moved = timedelta()

    def forward(by: timedelta) -> None:
        nonlocal moved
        moved += by

    console.state.clock = lambda: start + moved + (datetime.now(UTC) - start)
    yield forward
    console.state.clock = lambda: datetime.now(UTC)


_HIDDEN = re.compile(r'name="(csrf_token|idempotency_key)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields a page's forms carry (the CSRF token, a form's Idempotency-Key)."""
    return dict(_HIDDEN.findall(html))


async def sign_in(
    browser: httpx.AsyncClient, role: str = "esc_staff", office: str = "ESC-VT", next: str = "/"
) -> httpx.Response:
    """Sign in through the development picker, as a person would."""
    page = await browser.get("/sign-in")
    assert page.status_code == 200, page.text
    token = hidden_fields(page.text)["csrf_token"]
    done = await browser.post(
        "/sign-in/dev",
        data={"csrf_token": token, "role": role, "office_code": office, "next": next},
    )
    assert done.status_code == 303, done.text
    return done


async def csrf_of(browser: httpx.AsyncClient, path: str = "/") -> str:
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    return hidden_fields(page.text)["csrf_token"]
