"""Driving the console in Debian's Chromium: the browser's settings, an office computer (a
browser context that can lose its connection), signing in, and the registry's own API to check
what arrived. Used by the browser tests and the screenshots script."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import BrowserContext, Page, Request, Route, ViewportSize, expect

from shared.auth import mint_token
from shared.reference.offices import SEED_OFFICES

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx

    from tests.browser.system import DevSystem

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A laptop's screen, as officers have.
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Generous: a page of a two-core machine running five services and a browser.
DEADLINE_MS = 30_000
expect.set_options(timeout=DEADLINE_MS)


def chromium_missing() -> bool:
    return shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists()


@dataclass
class Computer:
    """One office computer: a browser context with its cookies, service worker and storage."""

    context: BrowserContext
    console_url: str
    worker_offline: bool = False
    routed: bool = False

    async def page(self) -> Page:
        page = await self.context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        return page

    async def set_offline(self, offline: bool) -> None:
        """No connection at all: for the pages (navigator.onLine is false) and for the
        service worker's own fetches."""
        await self.set_link_down(offline)
        await self.context.set_offline(offline)

    async def set_link_down(self, down: bool) -> None:
        """The connection dead while the browser still thinks it is online (a weak link): the
        service worker's fetches fail, pages keep navigator.onLine true."""
        if not self.routed:
            # Routed only once a test cuts the link: routing every request costs time.
            await self.context.route("**/*", self._route)
            self.routed = True
        self.worker_offline = down

    async def _route(self, route: Route, request: Request) -> None:
        if self.worker_offline and request.service_worker is not None:
            await route.abort("internetdisconnected")
        else:
            await route.continue_()


async def sign_in(page: Page, office: str = "ESC-VT", role: str = "esc_staff") -> None:
    """Sign in through the development picker, as an officer would."""
    await page.goto("/sign-in")
    await page.locator(f'input[name="role"][value="{role}"]').check()
    await page.locator("#f-office_code").select_option(office)
    await page.locator('form[action="/sign-in/dev"] button[type="submit"]').click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)


async def wait_for_worker(page: Page) -> None:
    """The service worker controls the page, and the registration form is kept for offline.

    Polled from here with `page.evaluate` rather than `page.wait_for_function`: the latter polls
    inside the page with eval, which the console's Content Security Policy refuses, so it
    failed whenever the first look came too early (a loaded machine)."""
    await eventually(
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        "the service worker controls the page",
    )
    await eventually(
        lambda: page.evaluate(
            "caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
            ".then(c => c.match(location.origin + '/register')))))"
            ".then(found => found.some(Boolean))"
        ),
        "the registration form is kept for offline use",
    )


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, deadline_s: float = 60.0
) -> Any:
    """Wait until `check()` returns something truthy (the system works at its own pace)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    last: Any = None
    while loop.time() < end:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not so after {deadline_s:.0f} s (last: {last!r})")


class Registry:
    """The registry's own API, to check what arrived (not through the console)."""

    def __init__(self, client: httpx.AsyncClient, system: DevSystem) -> None:
        self.client = client
        self.system = system

    def headers(self, office: str = "ESC-VT") -> dict[str, str]:
        seed = SEED_OFFICES[office]
        token = mint_token(
            self.system.settings,
            subject=f"browser-test-{office.lower()}",
            roles=["esc_staff"],
            office=office,
            province=seed.province_code,
        )
        return {"Authorization": f"Bearer {token}"}

    async def people_named(self, name: str, office: str = "ESC-VT") -> list[dict[str, Any]]:
        found = await self.client.get(
            "/v1/people", params={"q": name, "limit": 50}, headers=self.headers(office)
        )
        assert found.status_code == 200, found.text
        items: list[dict[str, Any]] = found.json()["items"]
        return items

    async def register(self, body: dict[str, Any], office: str = "ESC-VT") -> dict[str, Any]:
        made = await self.client.post(
            "/v1/jobseekers",
            json=body,
            headers={**self.headers(office), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert made.status_code == 201, made.text
        person: dict[str, Any] = made.json()
        return person
