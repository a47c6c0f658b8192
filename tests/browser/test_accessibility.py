"""Accessible and usable by keyboard: axe-core finds no serious or critical problem on any
console page, signed out and in, in Lao and in English, empty and with errors shown; the
registration form is visited by Tab in the order of the interview."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.browser.driving import Computer, Registry, sign_in, wait_for_worker
from tests.browser.people import Person, fill_registration, someone

BLOCKING = {"serious", "critical"}
_axe = Axe()


class Audit:
    """Runs axe on each page state shown and keeps what blocks someone."""

    def __init__(self, page: Page, language: str) -> None:
        self.page = page
        self.language = language
        self.problems: list[str] = []
        self.seen: list[str] = []

    async def check(self, state: str) -> None:
        results = await _axe.run(self.page)
        self.seen.append(state)
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [", ".join(n["target"]) for n in violation["nodes"]][:5]
                self.problems.append(
                    f"[{self.language}] {state}: {violation['id']} ({violation['impact']}):"
                    f" {violation['help']} at {targets}"
                )

    async def visit(self, path: str, state: str | None = None) -> None:
        await self.page.goto(path)
        await self.check(state or path)


async def _switch_to(page: Page, language: str) -> None:
    """The language switch in the header (kept in a cookie, and in the session once signed in)."""
    if await page.locator("html").get_attribute("lang") != language:
        await page.locator(f'form.language button[value="{language}"]').click()
        await expect(page.locator("html")).to_have_attribute("lang", language)


async def _queue(page: Page, person: Person, state: str, answer: list[str] | None = None) -> None:
    """A form kept in this browser as the offline script keeps it (to show each state)."""
    await page.evaluate(
        """async ([name, state, answer]) => {
            const id = crypto.randomUUID();
            const item = await LabourxQueue.keep({
                kind: 'registration', action: '/register', page: '/register',
                fields: [['idempotency_key', id], ['given_name_lo', name]], name: name,
            });
            if (state !== 'waiting') {
                item.state = state;
                item.answer = {status: 409, summary: answer};
                await LabourxQueue.put(item);
            }
        }""",
        [person.name_lo, state, answer or []],
    )


@pytest.mark.parametrize("language", ["lo", "en"])
async def test_no_serious_or_critical_problem_on_any_page(
    computer: Computer, registry: Registry, language: str
) -> None:
    here = await registry.register(someone().registry_body("LA-VT"), office="ESC-VT")
    elsewhere = await registry.register(someone().registry_body("LA-CH"), office="ESC-CH")
    page = await computer.page()
    audit = Audit(page, language)

    # Signed out.
    await page.goto("/sign-in")
    await _switch_to(page, language)
    await audit.check("sign-in")
    await page.locator('form[action="/sign-in/dev"] button[type="submit"]').click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await audit.check("sign-in with errors")
    await audit.visit("/offline/waiting", "waiting list, signed out")
    await audit.visit("/no/such/page", "page not found")

    # Signed in as an officer of Vientiane Capital.
    await sign_in(page)
    await _switch_to(page, language)
    steps: list[tuple[str, str]] = [
        ("/", "home"),
        ("/people", "people search"),
        (f"/people?q={here['given_name_en']}", "people found"),
        ("/people?q=zzzzqqqq", "nobody found"),
        ("/people?q=x", "search refused"),
        (f"/people/{here['reference']}", "a person's page"),
        (f"/people/{elsewhere['reference']}", "a person of another province"),
        (f"/people/{elsewhere['reference']}/visit", "record a visit"),
        ("/imports", "import"),
        ("/offline/waiting", "waiting list, empty"),
        ("/offline/unavailable", "offline: page not kept"),
    ]
    for path, state in steps:
        await audit.visit(path, state)

    # Error states: a consent recorded without its answers, an import sent without a file.
    await page.goto(f"/people/{here['reference']}")
    await page.locator("#consents summary").click()
    await page.locator("#consents").locator('button[type="submit"]').click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await audit.check("a person's page with a form's errors")
    await page.goto("/imports")
    await page.locator('form[action="/imports"] button[type="submit"]').click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await audit.check("import without a file")

    await page.goto("/register")
    await audit.check("registration form")
    await page.locator('button[name="action"][value="register"]').click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await audit.check("registration form with errors")
    duplicate = someone()
    await registry.register(duplicate.registry_body("LA-VT"))
    await page.goto("/register")
    await fill_registration(page, duplicate, other_spelling=True)
    await page.locator('button[name="action"][value="register"]').click()
    await expect(page.locator("#f-confirm_not_duplicate")).to_be_visible()
    await audit.check("registration stopped by a probable duplicate")

    await wait_for_worker(page)
    await page.goto("/offline/waiting")
    await _queue(page, someone(), "waiting")
    await _queue(page, someone(), "needs-you", ["The register may have this person already"])
    await page.reload()
    await expect(page.locator("[data-offline-item]")).to_have_count(2)
    await audit.check("waiting list with a form waiting and one needing the officer")
    await computer.set_offline(True)
    await page.goto("/register")
    await audit.check("registration form opened offline")
    await computer.set_offline(False)

    # An administrator's pages: the audit trail and erasure.
    await page.context.clear_cookies()
    await sign_in(page, role="admin")
    await _switch_to(page, language)
    await audit.visit(f"/people/{here['reference']}", "a person's page, for an administrator")
    await audit.visit(f"/people/{here['reference']}/erase", "erasure")

    assert not audit.problems, "\n".join(audit.problems)
    assert len(audit.seen) >= 22


async def _tab_order(page: Page, first: str, count: int) -> list[str]:
    await page.locator(first).focus()
    order = [await page.evaluate("document.activeElement.id")]
    for _ in range(count - 1):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.id"))
    return order


async def test_the_registration_form_is_visited_by_tab_in_the_order_of_the_interview(
    page: Page,
) -> None:
    await sign_in(page)
    await page.goto("/register")
    # No element jumps the queue with a positive tabindex, on this page or in the header.
    assert await page.locator("[tabindex]:not([tabindex='0']):not([tabindex='-1'])").count() == 0
    order = await _tab_order(page, "#f-given_name_lo", 9)
    assert order[:8] == [
        "f-given_name_lo",
        "f-family_name_lo",
        "f-given_name_en",
        "f-family_name_en",
        order[4],  # the first sex option (a radio group: one stop)
        "f-date_of_birth-day",
        "f-date_of_birth-month",
        "f-date_of_birth-year",
    ], order
    assert order[4].startswith("f-sex-"), order
    assert order[8] == "f-phone", order
    # And in the order they are laid out: each next field is below, or beside on the right.
    boxes: list[Any] = [await page.locator(f"#{field}").bounding_box() for field in order if field]
    for before, after in itertools.pairwise(boxes):
        assert after["y"] > before["y"] + 1 or after["x"] > before["x"], (before, after)


async def test_errors_are_said_in_words_not_only_in_red(page: Page) -> None:
    await sign_in(page)
    await page.goto("/register")
    await page.locator('button[name="action"][value="register"]').click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    # Each field in error says so in words (a hidden "Error:" for screen readers, then why),
    # is marked invalid for assistive technology, and is linked from the summary.
    for message in await page.locator(".field-error .error-message").all():
        assert (await message.inner_text()).strip()
    invalid = page.locator("[aria-invalid='true']")
    assert await invalid.count() >= 1
    first_link = summary.locator("a").first
    target = (await first_link.get_attribute("href") or "#").removeprefix("#")
    assert await page.locator(f"#{target}").count() == 1
