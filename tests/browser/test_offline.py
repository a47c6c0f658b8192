"""Registration offline: the form opens without a connection, what is sent is kept in the
browser with the form's Idempotency-Key and listed as waiting, and it arrives in the registry
exactly once when the connection returns, whatever the officer or the browser does meanwhile."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import Computer, Registry, eventually, sign_in, wait_for_worker
from tests.browser.people import Person, fill_registration, someone


async def _arrived(registry: Registry, person: Person) -> list[dict[str, object]]:
    """The people in the registry with this person's names and birth date."""
    found = await registry.people_named(person.given_en)
    return [
        p
        for p in found
        if p.get("given_name_en") == person.given_en
        and p.get("family_name_en") == person.family_en
        and p.get("date_of_birth") == person.born.isoformat()
    ]


async def _key(page: Page) -> str:
    return await page.locator('form[data-offline] input[name="idempotency_key"]').input_value()


async def _register_offline(computer: Computer, page: Page, person: Person) -> str:
    """Open the form, lose the connection, register the person: the Idempotency-Key kept."""
    await page.goto("/register")
    await wait_for_worker(page)
    await computer.set_offline(True)
    await page.goto("/register")  # opened again without a connection: the kept copy
    await expect(page.locator("h1")).to_have_text("ລົງທະບຽນຜູ້ຊອກວຽກ")
    key = await _key(page)
    await fill_registration(page, person)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting\?saved="))
    return key


async def test_a_registration_made_offline_waits_in_the_list_and_arrives_once_back_online(
    computer: Computer, page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    await page.goto("/register")
    await wait_for_worker(page)
    opened_with = await _key(page)

    key = await _register_offline(computer, page, person)
    # A copy of the form opened offline is a registration of its own: a key of its own.
    assert key != opened_with

    # The officer sees it waiting, by name, with when it was saved; the header counts it.
    item = page.locator(f'[data-offline-item="{key}"]')
    await expect(item).to_contain_text(person.name_lo)
    await expect(item).to_contain_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"))
    await expect(page.locator("#offline-notice")).to_contain_text("ບັນທຶກໄວ້ໃນຄອມພິວເຕີເຄື່ອງນີ້")
    await expect(page.locator("[data-offline-count]")).to_have_text(" (1)")
    await expect(page.locator("[data-offline-banner]")).to_contain_text("ທ່ານບໍ່ມີການເຊື່ອມຕໍ່")
    # Every page says so: the waiting count is in the header of the form too.
    await page.goto("/register")
    await expect(page.locator("[data-offline-count]")).to_have_text(" (1)")
    await page.goto("/offline/waiting")
    assert await _arrived(registry, person) == []

    await computer.set_offline(False)
    sent = page.locator(f'[data-offline-sent="{key}"]')
    await expect(sent).to_contain_text(person.name_lo)
    await expect(page.locator(f'[data-offline-item="{key}"]')).to_have_count(0)
    await expect(page.locator("[data-offline-count]")).to_have_text("")
    found = await eventually(lambda: _arrived(registry, person), "the registration arrived")
    assert len(found) == 1
    # The sent line opens the person the registry made.
    await sent.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(rf"/people/{found[0]['reference']}"))
