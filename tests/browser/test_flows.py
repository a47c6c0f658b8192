"""An officer's day in the console, in Lao, in a real browser against the running system:
sign in, register a jobseeker, be stopped by the duplicate check when the same person is
typed in another romanisation, record a consent, change a status, import a CSV with bad
rows; and an officer of another province cannot see the person."""

from __future__ import annotations

import csv
import io
import re

from playwright.async_api import FilePayload, Page, expect

from tests.browser.driving import Registry, eventually, sign_in
from tests.browser.people import Person, fill_registration, someone


async def _register(page: Page, person: Person) -> str:
    """Register through the form; the person's reference, from the page they land on."""
    await page.goto("/register")
    await fill_registration(page, person)
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/people/P-"))
    found = re.search(r"/people/(P-[0-9A-Z]+)", page.url)
    assert found, page.url
    return found[1]


async def test_an_officer_signs_in_and_registers_a_jobseeker_in_lao(
    page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    await expect(page.locator("html")).to_have_attribute("lang", "lo")
    await expect(page.locator("nav")).to_contain_text("ລໍຖ້າສົ່ງ")  # waiting to send
    reference = await _register(page, person)
    await expect(page.locator("h1")).to_contain_text(person.name_lo)
    await expect(page.locator("main")).to_contain_text(reference)
    found = await registry.people_named(person.given_en)
    mine = [p for p in found if p["reference"] == reference]
    assert len(mine) == 1
    assert mine[0]["given_name_lo"] == person.given_lo
    # Found again by name in Lao script.
    await page.goto("/people")
    await page.locator("#f-q").fill(person.name_lo)
    await page.locator("#f-q").press("Enter")
    await expect(page.locator(f'a[href="/people/{reference}"]').first).to_be_visible()


async def test_the_duplicate_check_stops_the_same_person_typed_in_another_romanisation(
    page: Page, registry: Registry
) -> None:
    person = someone()
    first = await registry.register(person.registry_body())
    await sign_in(page)
    await page.goto("/register")
    # As the officer types, the registry's check names the person already registered ...
    await fill_registration(page, person, other_spelling=True)
    duplicates = page.locator("#duplicates")
    await expect(duplicates).to_contain_text(first["reference"])
    await expect(duplicates).to_contain_text(person.given_en)
    # ... and sending anyway is stopped, the two side by side, what was typed kept.
    await page.locator('button[name="action"][value="register"]').click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await expect(duplicates.locator("table")).to_contain_text(person.given_en_other)
    await expect(page.locator("#f-given_name_en")).to_have_value(person.given_en_other)
    await expect(duplicates.get_by_role("link").first).to_have_attribute(
        "href", f"/people/{first['reference']}"
    )
    assert len([p for p in await registry.people_named(person.given_en) if _same(p, person)]) == 1

    # Had it been someone else, "not the same person" is recorded with the registration the
    # way the registry expects it, and the person is registered.
    await page.locator("#f-confirm_not_duplicate").check()
    await page.locator('button[name="action"][value="register"]').click()
    await page.wait_for_url(re.compile(r"/people/P-"))
    both = [p for p in await registry.people_named(person.given_en) if _same(p, person)]
    assert sorted(p["given_name_en"] for p in both) == sorted(
        [person.given_en, person.given_en_other]
    )


def _same(found: dict[str, object], person: Person) -> bool:
    return (
        found.get("given_name_lo") == person.given_lo
        and found.get("date_of_birth") == person.born.isoformat()
    )


async def test_an_officer_records_a_consent_and_changes_the_jobseeker_status(page: Page) -> None:
    person = someone()
    await sign_in(page)
    reference = await _register(page, person)

    consents = page.locator("#consents")
    await consents.locator("summary").click()
    await page.locator("#f-consent-purpose").select_option("job_matching")
    await page.locator('input[name="consent.status"][value="given"]').check()
    await page.locator('input[name="consent.method"][value="verbal"]').check()
    # Given out loud, it needs a witness: the registry says so, beside the field, in Lao.
    await consents.locator('button[type="submit"]').click()
    await expect(page.locator("#f-consent-witness_name-error")).to_be_visible()
    await expect(page.locator("#f-consent-purpose")).to_have_value("job_matching")
    await page.locator("#f-consent-witness_name").fill("ນາງ ຄຳແພງ")
    await page.locator("#consents").locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(rf"/people/{reference}\?done=consent"))
    await expect(page.locator("#consents table")).to_contain_text("ຄຳແພງ")

    status = page.locator("#jobseeker")
    await status.locator('input[name="status.status"][value="inactive"]').check()
    await page.locator("#f-status-reason").fill("ໄປຮຽນຕໍ່")
    await status.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(rf"/people/{reference}\?done=status"))
    await expect(page.locator("#jobseeker")).to_contain_text("ໄປຮຽນຕໍ່")
    # Only the moves the new status allows are offered now.
    await expect(status.locator('input[name="status.status"][value="inactive"]')).to_have_count(0)


async def test_a_csv_with_bad_rows_is_imported_and_the_rows_to_fix_can_be_downloaded(
    page: Page, registry: Registry
) -> None:
    await sign_in(page)
    await page.goto("/imports")
    template = await page.request.get("/imports/template.csv")
    columns = next(csv.reader(io.StringIO((await template.text()).lstrip("\ufeff"))))
    good, also_good, bad = someone(), someone(), someone()
    rows = [
        {**_csv_row(good), "consent_sms": "yes"},
        _csv_row(also_good),
        {**_csv_row(bad), "date_of_birth": "31/02/1990", "phone": "12"},
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    upload: FilePayload = {
        "name": "ລົງທະບຽນ.csv",
        "mimeType": "text/csv",
        "buffer": out.getvalue().encode(),
    }
    await page.locator("#f-file").set_input_files(files=[upload])
    await page.locator('form[action="/imports"] button[type="submit"]').click()
    report = page.locator("table.report")
    await expect(report.locator("tbody tr")).to_have_count(3)
    await expect(report.locator("tbody tr").nth(2)).to_contain_text("date_of_birth")
    await expect(report.locator("tbody tr").nth(2)).to_contain_text("phone")
    await expect(report).to_contain_text(good.given_lo)

    async with page.expect_download() as downloading:
        await page.locator('form[action="/imports/rows-to-fix.csv"] button').click()
    download = await downloading.value
    fixed = (await download.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(fixed)))
    assert [line["given_name_lo"] for line in lines] == [bad.given_lo]
    assert len(await eventually(lambda: _found(registry, good), "imported")) == 1


async def _found(registry: Registry, person: Person) -> list[dict[str, object]]:
    return [p for p in await registry.people_named(person.given_en) if _same(p, person)]


def _csv_row(person: Person) -> dict[str, str]:
    return {
        "given_name_lo": person.given_lo,
        "family_name_lo": person.family_lo,
        "given_name_en": person.given_en,
        "family_name_en": person.family_en,
        "sex": person.sex,
        "date_of_birth": person.born.isoformat(),
        "province_code": "LA-VT",
    }


async def test_an_officer_of_another_province_cannot_see_the_person(
    page: Page, registry: Registry
) -> None:
    person = someone()
    await sign_in(page)
    reference = await _register(page, person)
    await page.context.clear_cookies()
    await sign_in(page, office="ESC-CH")  # Champasak
    answer = await page.goto(f"/people/{reference}")
    assert answer is not None
    assert answer.status == 403
    # Their identity card only (to record a visit if they come here), never their record.
    await expect(page.locator("main")).to_contain_text(reference)
    for section in ("#consents", "#jobseeker", "#migration"):
        await expect(page.locator(section)).to_have_count(0)
    await expect(
        page.locator(
            f'a[href="/people/{reference}/visit"], form[action="/people/{reference}/visit"]'
        ).first
    ).to_be_visible()
    # A name search covers one's own province only.
    await page.goto(f"/people?q={person.given_en}")
    await expect(page.locator(f'a[href="/people/{reference}"]')).to_have_count(0)
