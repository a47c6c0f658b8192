"""Screenshots of the console's main screens in Lao, for docs/console.md.

    .venv/bin/python -m tests.browser.screenshots [--out docs/console] [--language en] [--width 390]

With `--language en` or another `--width` (a phone: 390) the files are named after both
(`waiting-en-390.png`), beside the Lao laptop ones docs/console.md shows.

Starts the whole system as `make run` does (on its own ports; PostgreSQL from
LABOURX_DATABASE_URL if set, else the embedded one), registers a few people through the
registry's API, then drives Debian's Chromium through an officer's screens at a laptop's width
and keeps each as a small PNG (a palette of 64 colours: a few tens of KB each).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import re
import tempfile
from pathlib import Path

import httpx
from PIL import Image
from playwright.async_api import FilePayload, FloatRect, Page, async_playwright, expect

from services.console.web.page import LANGUAGE_COOKIE
from shared.db import drop_database
from shared.settings import SERVICES
from tests.browser.driving import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEADLINE_MS,
    VIEWPORT,
    Computer,
    Registry,
    sign_in,
    wait_for_worker,
)
from tests.browser.people import Person, fill_registration, someone
from tests.browser.system import REPO, DevSystem

OUT = REPO / "docs" / "console"
COLOURS = 64


def optimise(path: Path) -> int:
    """Rewrite a screenshot as a 64-colour PNG; its size in bytes."""
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    return path.stat().st_size


async def shoot(page: Page, out: Path, name: str, down_to: str | None = None) -> None:
    """The page as the officer sees it on opening it; with `down_to`, from its top down to
    the bottom of that element (at most a few screens)."""
    await page.evaluate("document.fonts.ready")
    width = (page.viewport_size or VIEWPORT)["width"]
    language = await page.evaluate("document.documentElement.lang")
    suffix = "" if (language, width) == ("lo", VIEWPORT["width"]) else f"-{language}-{width}"
    path = out / f"{name}{suffix}.png"
    if down_to is None:
        await page.screenshot(path=path)
    else:
        bottom = await page.locator(down_to).evaluate(
            "e => e.getBoundingClientRect().bottom + window.scrollY + 24"
        )
        height = min(int(bottom), 2000)
        clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": height}
        await page.screenshot(path=path, full_page=True, clip=clip)
    print(f"{path.relative_to(REPO)}: {optimise(path) // 1024} KB")


async def run(system: DevSystem, out: Path, language: str = "lo", width: int = 0) -> None:
    async with httpx.AsyncClient(base_url=system.urls["registry"], timeout=30) as client:
        registry = Registry(client, system)
        people = [someone() for _ in range(6)]
        for person in people:
            await registry.register(person.registry_body())
        known = people[0]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            viewport = {**VIEWPORT, "width": width} if width else VIEWPORT
            context = await browser.new_context(
                base_url=system.urls["console"], viewport=viewport, locale="lo-LA"
            )
            await context.add_cookies(
                [{"name": LANGUAGE_COOKIE, "value": language, "url": system.urls["console"]}]
            )
            context.set_default_timeout(DEADLINE_MS)
            page = await context.new_page()
            await page.goto("/sign-in")
            await page.locator("#f-office_code").select_option("ESC-VT")
            await shoot(page, out, "sign-in")
            await sign_in(page)
            await shoot(page, out, "today")
            await page.goto(f"/people?q={known.given_lo}")
            await shoot(page, out, "people")

            # The registration form stopping the same person typed another way.
            await page.goto("/register")
            await fill_registration(page, known, other_spelling=True)
            await expect(page.locator("#duplicates table")).to_be_visible()
            await shoot(page, out, "register", down_to="#duplicates")

            await _register(page, someone())
            await shoot(page, out, "person", down_to="#jobseeker")

            await _import(page, out)
            await _waiting(Computer(context, system.urls["console"]), page, out, known)
            await browser.close()


async def _register(page: Page, person: Person) -> str:
    await page.goto("/register")
    await fill_registration(page, person)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/people/P-"))
    return page.url


async def _import(page: Page, out: Path) -> None:
    await page.goto("/imports")
    template = await page.request.get("/imports/template.csv")
    columns = next(csv.reader(io.StringIO((await template.text()).lstrip("\ufeff"))))
    rows = []
    for n, person in enumerate([someone(), someone(), someone()]):
        row = {
            "given_name_lo": person.given_lo,
            "family_name_lo": person.family_lo,
            "given_name_en": person.given_en,
            "family_name_en": person.family_en,
            "sex": person.sex,
            "date_of_birth": person.born.isoformat() if n != 2 else "31/02/1990",
            "province_code": "LA-VT",
        }
        rows.append(row)
    written = io.StringIO()
    writer = csv.DictWriter(written, fieldnames=columns)
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    upload: FilePayload = {
        "name": "ລົງທະບຽນ-ບ້ານໂພນສະອາດ.csv",
        "mimeType": "text/csv",
        "buffer": written.getvalue().encode(),
    }
    await page.locator("#f-file").set_input_files(files=[upload])
    await page.locator('form[action="/imports"] button[type="submit"]').click()
    await expect(page.locator("table.report")).to_be_visible()
    await shoot(page, out, "import")


async def _waiting(computer: Computer, page: Page, out: Path, known: Person) -> None:
    """The waiting list offline: one registration waiting, one brought back to the officer."""
    await page.goto("/register")
    await wait_for_worker(page)
    await computer.set_offline(True)
    await page.goto("/register")
    await fill_registration(page, known, other_spelling=True)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting"))
    await computer.set_offline(False)
    await expect(page.locator('[data-state="needs-you"]')).to_have_count(1)
    await computer.set_offline(True)
    await page.goto("/register")
    await fill_registration(page, someone())
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting"))
    await expect(page.locator("[data-offline-item]")).to_have_count(2)
    await shoot(page, out, "waiting")
    await computer.set_offline(False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--language", choices=["lo", "en"], default="lo")
    parser.add_argument("--width", type=int, default=0, help="viewport width (a phone: 390)")
    args = parser.parse_args()
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    database_url = os.environ.get("LABOURX_DATABASE_URL")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="labourx-screenshots-") as work:
        system = DevSystem(database_url, Path(work))
        try:
            system.start()
            asyncio.run(run(system, args.out.resolve(), args.language, args.width))
        finally:
            system.stop()
            if database_url:
                for name in SERVICES:
                    asyncio.run(drop_database(system.settings, name))


if __name__ == "__main__":
    main()
