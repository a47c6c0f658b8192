"""Browser tests: the console and the four services started for real (`labourx dev`, once per
test session), and Playwright driving Debian's Chromium (`make test` installs it; never
`playwright install`). Each test gets a browser context of its own: its own cookies, service
worker and IndexedDB, as a second computer would have."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from shared.auth import mint_token
from shared.db import drop_database
from shared.reference.offices import SEED_OFFICES
from shared.settings import SERVICES
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


def _chromium_missing() -> bool:
    return shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists()


pytestmark = pytest.mark.skipif(
    _chromium_missing(), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture(scope="session")
async def system(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DevSystem]:
    """The console and the four services, as `make run` starts them, for the whole session."""
    if _chromium_missing():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    dev = DevSystem(database_url, tmp_path_factory.mktemp("labourx-dev"))
    try:
        await asyncio.to_thread(dev.start)
        yield dev
    finally:
        await asyncio.to_thread(dev.stop)
        for name in SERVICES:
            await drop_database(dev.settings, name)


@pytest.fixture(scope="session")
def console_url(system: DevSystem) -> str:
    return system.urls["console"]


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    # Lets a test take the service worker's network away too: Chromium's offline emulation
    # covers pages only, not what a service worker fetches (playwright#2311).
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    try:
        async with async_playwright() as started:
            yield started
    finally:
        os.environ.pop("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", None)


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, system: DevSystem) -> AsyncIterator[Browser]:
    launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    await launched.close()


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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def computer(
    browser: Browser, console_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Computer]:
    context = await browser.new_context(
        base_url=console_url, viewport=VIEWPORT, service_workers="allow", locale="lo-LA"
    )
    context.set_default_timeout(DEADLINE_MS)
    yield Computer(context, console_url)
    if request.node.stash.get(_FAILED, False):
        # What each page showed when the test failed, kept with the test's files.
        for n, shown in enumerate(context.pages):
            await shown.screenshot(path=tmp_path / f"page-{n}.png", full_page=True)
            (tmp_path / f"page-{n}.html").write_text(await shown.content())
        print(f"pages at failure: {tmp_path}")
    await context.close()


@pytest.fixture
async def page(computer: Computer) -> Page:
    return await computer.page()


@pytest.fixture
async def browser_without_javascript(browser: Browser, console_url: str) -> AsyncIterator[Page]:
    """A browser with JavaScript off: every page must still work as plain forms."""
    context = await browser.new_context(
        base_url=console_url, viewport=VIEWPORT, java_script_enabled=False, locale="lo-LA"
    )
    context.set_default_timeout(DEADLINE_MS)
    yield await context.new_page()
    await context.close()


async def sign_in(page: Page, office: str = "ESC-VT", role: str = "esc_staff") -> None:
    """Sign in through the development picker, as an officer would."""
    await page.goto("/sign-in")
    await page.locator(f'input[name="role"][value="{role}"]').check()
    await page.locator("#f-office_code").select_option(office)
    await page.locator('form[action="/sign-in/dev"] button[type="submit"]').click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)


async def wait_for_worker(page: Page) -> None:
    """The service worker controls the page, and the registration form is kept for offline."""
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await page.wait_for_function(
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        ".then(c => c.match(location.origin + '/register')))))"
        ".then(found => found.some(Boolean))"
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


@pytest.fixture(scope="session")
async def registry(system: DevSystem) -> AsyncIterator[Registry]:
    async with httpx.AsyncClient(base_url=system.urls["registry"], timeout=30) as client:
        yield Registry(client, system)
