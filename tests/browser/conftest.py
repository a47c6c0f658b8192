"""Browser tests: the console and the four services started for real (`labourx dev`, once per
test session), and Playwright driving Debian's Chromium (`make test` installs it; never
`playwright install`). Each test gets a browser context of its own: its own cookies, service
worker and IndexedDB, as a second computer would have."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

from shared.db import drop_database
from shared.settings import SERVICES
from tests.browser.driving import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEADLINE_MS,
    VIEWPORT,
    Computer,
    Registry,
    chromium_missing,
)
from tests.browser.system import DevSystem

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture(scope="session")
async def system(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DevSystem]:
    """The console and the four services, as `make run` starts them, for the whole session."""
    if chromium_missing():
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


@pytest.fixture(scope="session")
async def registry(system: DevSystem) -> AsyncIterator[Registry]:
    async with httpx.AsyncClient(base_url=system.urls["registry"], timeout=30) as client:
        yield Registry(client, system)
