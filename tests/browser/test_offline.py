"""Registration offline: the form opens without a connection, what is sent is kept in the
browser with the form's Idempotency-Key and listed as waiting, and it arrives in the registry
exactly once when the connection returns, whatever the officer or the browser does meanwhile."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.driving import Computer, Registry, eventually, sign_in, wait_for_worker
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


async def test_two_tabs_a_reload_and_a_second_send_never_make_a_second_person(
    computer: Computer, page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    key = await _register_offline(computer, page, person)
    kept = await page.evaluate("key => LabourxQueue.get(key)", key)
    assert kept["state"] == "waiting"
    assert ["idempotency_key", key] in kept["fields"]
    # A second tab on the waiting list (opened offline: the kept copy), both waiting to send.
    second = await computer.page()
    await second.goto("/offline/waiting")
    await expect(second.locator(f'[data-offline-item="{key}"]')).to_have_count(1)

    await computer.set_offline(False)  # both tabs hear the connection come back
    await page.reload()
    await second.reload()
    for tab in (page, second):
        await expect(tab.locator(f'[data-offline-sent="{key}"]')).to_have_count(1)
        await expect(tab.locator("[data-offline-item]")).to_have_count(0)
    found = await eventually(lambda: _arrived(registry, person), "the registration arrived")
    assert len(found) == 1

    # The very same submission sent once more (as a lost answer would make it): the registry
    # answers with the first person, and the console shows that person.
    again = await page.evaluate(
        """async fields => {
            const session = await (await fetch('/offline/session')).json();
            const body = new URLSearchParams(fields);
            body.append('csrf_token', session.csrf_token);
            const r = await fetch('/register', {method: 'POST', body});
            return new URL(r.url).pathname;
        }""",
        kept["fields"],
    )
    assert again == f"/people/{found[0]['reference']}"
    assert len(await _arrived(registry, person)) == 1


async def test_a_tab_that_finds_another_holding_the_sender_waits_and_sends_what_is_left(
    computer: Computer, page: Page, registry: Registry
) -> None:
    """Only one tab sends at a time. A tab that finds another holding the sender's lock (a tab
    mid-send, or a page still unloading after a reload) waits for it instead of giving up:
    it used to give up, and when the holder was a page going away nothing was ever sent."""
    person = someone()
    await sign_in(page)
    key = await _register_offline(computer, page, person)
    holder = await computer.page()
    await holder.goto("/offline/waiting")
    await holder.evaluate(
        """() => new Promise(held => navigator.locks.request('labourx-offline-sender', () => {
            held();
            return new Promise(letGo => { window.letGo = letGo; });
        }))"""
    )
    await computer.set_offline(False)
    await page.reload()
    # The lock is held: the registration waits in the list, not sent by anyone.
    await expect(page.locator(f'[data-offline-item="{key}"]')).to_have_count(1)
    await page.wait_for_function(  # the reloaded page waits for the lock
        """async () => (await navigator.locks.query()).pending
            .some(l => l.name === 'labourx-offline-sender')"""
    )
    assert await _arrived(registry, person) == []

    await holder.evaluate("() => window.letGo()")  # the holder goes away without sending
    await expect(page.locator(f'[data-offline-sent="{key}"]')).to_have_count(1)
    assert len(await eventually(lambda: _arrived(registry, person), "arrived")) == 1


async def test_a_post_that_fails_for_lack_of_a_connection_is_kept_by_the_service_worker(
    computer: Computer, page: Page, registry: Registry
) -> None:
    """The browser believes it is online (navigator.onLine), but the link is dead: the form
    posts, the service worker's fetch fails, and it keeps the registration."""
    person = someone()
    await sign_in(page)
    await page.goto("/register")
    await wait_for_worker(page)
    await page.reload()  # a page the worker answered, as every page after the first is
    key = await _key(page)
    await computer.set_link_down(True)
    await fill_registration(page, person)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting\?saved="))
    await expect(page.locator(f'[data-offline-item="{key}"]')).to_contain_text(person.name_lo)
    assert await _arrived(registry, person) == []

    await computer.set_link_down(False)
    await page.locator("#offline-send").click()  # or wait for the next try, or any page load
    await expect(page.locator(f'[data-offline-sent="{key}"]')).to_have_count(1)
    assert len(await eventually(lambda: _arrived(registry, person), "arrived")) == 1


async def test_a_duplicate_or_a_refusal_found_on_sending_is_brought_back_to_the_officer(
    computer: Computer, page: Page, registry: Registry
) -> None:
    # Someone registered at another counter already, under the usual romanisation.
    existing = someone()
    await registry.register(existing.registry_body())
    await sign_in(page)
    await page.goto("/register")
    await wait_for_worker(page)
    await computer.set_offline(True)
    await page.goto("/register")
    # Offline, the officer registers the same person, written another way ...
    await fill_registration(page, existing, other_spelling=True)
    duplicate_key = await _key(page)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting"))
    # ... and someone with a phone number that is not one.
    refused = someone()
    await page.goto("/register")
    refused_key = await _key(page)
    assert refused_key != duplicate_key
    await fill_registration(page, refused)
    await page.locator("#f-phone").fill("12 34")
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/offline/waiting"))
    await expect(page.locator("[data-offline-item]")).to_have_count(2)

    await computer.set_offline(False)
    duplicate = page.locator(f'[data-offline-item="{duplicate_key}"]')
    await expect(duplicate).to_have_attribute("data-state", "needs-you")
    await expect(duplicate).to_contain_text("ໃນທະບຽນອາດມີຜູ້ນີ້ແລ້ວ")  # may already be there
    bad = page.locator(f'[data-offline-item="{refused_key}"]')
    await expect(bad).to_have_attribute("data-state", "needs-you")
    await expect(bad).to_contain_text("ມີບາງຢ່າງທີ່ບໍ່ຖືກຮັບ")  # something was not accepted
    await expect(page.locator("[data-offline-count]")).to_contain_text("2")
    # Neither was registered by sending: the officer decides.
    assert len(await _arrived(registry, existing)) == 1
    assert await _arrived(registry, refused) == []

    # Opened, it is the form as online: what was typed, the people it may be side by side,
    # under the same Idempotency-Key; it leaves the waiting list (it is in the form now).
    await duplicate.get_by_role("button", name="ເປີດໃນແບບຟອມ").click()
    await page.wait_for_url("**/register")
    await expect(page.locator("#f-given_name_en")).to_have_value(existing.given_en_other)
    await expect(page.locator("#duplicates")).to_contain_text(existing.given_en)
    assert await _key(page) == duplicate_key
    await expect(page.locator("[data-offline-count]")).to_have_text(re.compile(r" \(1"))
    # "Not the same person" is the officer's to decide; here it is the same, so nothing more.

    await page.goto("/offline/waiting")
    await page.locator(f'[data-offline-item="{refused_key}"]').get_by_role("button").first.click()
    await page.wait_for_url("**/register")
    await expect(page.locator(".error-summary")).to_be_visible()
    await expect(page.locator("#f-phone")).to_have_value("12 34")
    await expect(page.locator("#f-phone")).to_have_attribute("aria-invalid", "true")


async def test_an_ended_session_keeps_what_waits_and_asks_to_sign_in_again(
    computer: Computer, page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    key = await _register_offline(computer, page, person)
    await computer.context.clear_cookies()  # the session ended while the link was down
    await computer.set_offline(False)
    banner = page.locator("[data-offline-banner]")
    await expect(banner).to_contain_text("ເຂົ້າສູ່ລະບົບຄືນໃໝ່")  # sign in again
    await expect(page.locator(f'[data-offline-item="{key}"]')).to_have_count(1)
    assert await _arrived(registry, person) == []

    await banner.get_by_role("link").click()
    await page.locator('input[name="role"][value="esc_staff"]').check()
    await page.locator("#f-office_code").select_option("ESC-VT")
    await page.locator('form[action="/sign-in/dev"] button[type="submit"]').click()
    await page.wait_for_url("**/offline/waiting")
    await expect(page.locator(f'[data-offline-sent="{key}"]')).to_have_count(1)
    assert len(await eventually(lambda: _arrived(registry, person), "arrived")) == 1


async def test_a_registration_removed_from_the_list_is_never_sent(
    computer: Computer, page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    key = await _register_offline(computer, page, person)
    page.once("dialog", lambda dialog: dialog.accept())  # "it has not been sent": yes, remove
    await page.locator(f'[data-offline-item="{key}"]').get_by_role("button").last.click()
    await expect(page.locator("#offline-notice")).to_contain_text(person.name_lo)
    await expect(page.locator("[data-offline-item]")).to_have_count(0)
    await computer.set_offline(False)
    await page.reload()
    await expect(page.locator("#offline-empty")).to_be_visible()
    assert await _arrived(registry, person) == []


async def test_without_javascript_the_form_posts_as_a_plain_form(
    browser_without_javascript: Page, registry: Registry
) -> None:
    page = browser_without_javascript
    person = someone()
    await sign_in(page)
    await page.goto("/register")
    await fill_registration(page, person, district=False)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/people/P-"))
    assert len(await _arrived(registry, person)) == 1
