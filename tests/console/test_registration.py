"""Registering a jobseeker through the console: one form in the order of the interview, in Lao;
the duplicate check as the officer types and as the registration's 409; "not the same person"
recorded as the registry expects; a duplicate of another province with its card and decisions;
the registry's refusals beside the fields, in Lao, with what was typed kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.console.conftest import Console, hidden_fields, sign_in
from tests.support import bearer, fetchval, jobseeker, unique_names

if TYPE_CHECKING:
    from shared.settings import Settings

# Attapeu: a province of these tests' own.
PROVINCE, OFFICE = "LA-AT", "ESC-AT"


async def registry_get(console: Console, headers: dict[str, str], path: str) -> Any:
    transport = httpx.ASGITransport(app=console.services["registry"])
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as registry:
        answer = await registry.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def register_directly(console: Console, headers: dict[str, str], **body: Any) -> Any:
    transport = httpx.ASGITransport(app=console.services["registry"])
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as registry:
        made = await registry.post("/v1/jobseekers", json=jobseeker(**body), headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture
async def officer(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(browser, office=OFFICE)
    return browser


@pytest.fixture
def at_officer(console_settings: Settings) -> dict[str, str]:
    return bearer(console_settings, "officer-at-1", ["esc_staff"], office=OFFICE)


async def open_form(browser: httpx.AsyncClient) -> dict[str, str]:
    page = await browser.get("/register")
    assert page.status_code == 200, page.text
    return hidden_fields(page.text)


def typed_person(names: dict[str, str], **more: str) -> dict[str, str]:
    """The form as an officer fills it in for the person `unique_names()` made."""
    year, month, day = names["date_of_birth"].split("-")
    return {
        "given_name_lo": names["given_name_lo"],
        "family_name_lo": "ພົມມະວົງ",
        "given_name_en": names["given_name_en"],
        "family_name_en": "Phommavong",
        "sex": "female",
        "date_of_birth.day": str(int(day)),
        "date_of_birth.month": str(int(month)),
        "date_of_birth.year": year,
        "phone": names["phone"],
        "province_code": PROVINCE,
        **more,
    }


async def submit(
    browser: httpx.AsyncClient, hidden: dict[str, str], typed: dict[str, str]
) -> httpx.Response:
    return await browser.post("/register", data={**hidden, **typed, "action": "register"})


def reference_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    found = re.match(r"/people/(P-[0-9A-Z]+)\?done=registered$", answer.headers["location"])
    assert found, answer.headers["location"]
    return found[1]


async def test_the_form_follows_the_interview_and_is_marked_for_the_offline_queue(
    officer: httpx.AsyncClient,
) -> None:
    page = await officer.get("/register")
    html = page.text
    assert '<form method="post" action="/register" id="registration-form"' in html
    assert 'data-offline="registration"' in html
    hidden = hidden_fields(html)
    assert set(hidden) == {"csrf_token", "idempotency_key"}
    # Every field labelled, in the order an officer asks: names, sex, birth, phone, address,
    # education, skills, languages, experience, consents.
    order = [
        "f-given_name_lo",
        "f-given_name_en",
        "f-sex",
        "f-date_of_birth",
        "f-phone",
        "f-province_code",
        "f-district",
        "f-village",
        "f-isced_level",
        "f-skills",
        "f-languages-0-code",
        "f-experience-0-search",
        "f-experience-0-years",
        "f-consent_job_matching",
        "f-consent_sms",
        "f-consent_partners",
        "f-consent_method",
        "f-consent_witness",
    ]
    positions = [html.index(f'id="{name}"') for name in order]
    assert positions == sorted(positions)
    for name in ("f-given_name_lo", "f-phone", "f-village", "f-experience-0-years"):
        assert f'<label class="label" for="{name}">' in html
    # The officer's province is chosen, and its districts are offered (Attapeu's five).
    assert '<option value="LA-AT" selected>' in html
    assert html.count('<option value="17') == 5
    assert "ໄຊເສດຖາ" in html


async def test_registering_in_lao_puts_the_person_in_the_registry_in_both_scripts(
    officer: httpx.AsyncClient, console: Console, at_officer: dict[str, str]
) -> None:
    names = unique_names()
    typed = typed_person(
        names,
        district="1701",
        village="ບ້ານໃໝ່",
        isced_level="3",
        skills="ເຊື່ອມເຫຼັກ, driving",
        **{
            "languages.0.code": "lo",
            "languages.0.proficiency": "native",
            "languages.2.code": "th",
            "languages.2.proficiency": "conversational",
            "experience.1.search": "ຊ່າງເຊື່ອມ",
            "experience.1.isco08": "7212",
            "experience.1.years": "3",
        },
        consent_job_matching="given",
        consent_sms="given",
        consent_email="refused",
        **{"consent_partners.un_agencies": "yes"},
        consent_method="signed",
    )
    answer = await submit(officer, await open_form(officer), typed)
    reference = reference_of(answer)

    record = await registry_get(console, at_officer, f"/v1/people/{reference}")
    assert (record["given_name_lo"], record["family_name_lo"]) == (names["given_name_lo"], "ພົມມະວົງ")
    assert (record["given_name_en"], record["family_name_en"]) == (
        names["given_name_en"],
        "Phommavong",
    )
    assert record["date_of_birth"] == names["date_of_birth"]
    assert record["province_code"] == PROVINCE
    assert record["office_code"] == OFFICE
    assert record["district"] == "ໄຊເສດຖາ"  # the district's name as it writes it
    assert record["village"] == "ບ້ານໃໝ່"
    assert record["isced_level"] == 3
    assert record["skills"] == ["ເຊື່ອມເຫຼັກ", "driving"]
    assert record["languages"] == [
        {"code": "lo", "proficiency": "native"},
        {"code": "th", "proficiency": "conversational"},
    ]
    assert record["experience"] == [{"isco08": "7212", "years": 3.0, "country": None}]
    assert record["jobseeker"]["status"] == "active"
    consents = await registry_get(console, at_officer, f"/v1/people/{reference}/consents")
    answered = {(c["purpose"], c["category"], c["status"]) for c in consents["items"]}
    assert answered == {
        ("job_matching", None, "given"),
        ("contact_sms", None, "given"),
        ("contact_email", None, "refused"),
        ("partner_sharing", "un_agencies", "given"),
    }

    # The person's page says so, in Lao, with the slip to print.
    page = await officer.get(answer.headers["location"])
    assert page.status_code == 200
    assert "ລົງທະບຽນແລ້ວ. ກະລຸນາພິມໃບລົງທະບຽນ" in page.text
    assert names["given_name_lo"] in page.text
    assert f"/people/{reference}/slip.pdf" in page.text
    assert "ໄຊເສດຖາ" in page.text
    assert "ຊ່າງເຊື່ອມ ແລະ ຕັດໂລຫະ" in page.text


async def test_sending_the_form_twice_registers_the_person_once(
    officer: httpx.AsyncClient,
) -> None:
    hidden = await open_form(officer)
    typed = typed_person(unique_names())
    first = reference_of(await submit(officer, hidden, typed))
    again = reference_of(await submit(officer, hidden, typed))  # a double click, a retry
    assert again == first


async def test_the_same_person_in_two_romanisations_stops_the_registration_side_by_side(
    officer: httpx.AsyncClient,
    console: Console,
    at_officer: dict[str, str],
    console_settings: Settings,
) -> None:
    names = unique_names()
    bounmy = await register_directly(
        console,
        at_officer,
        given_name_lo="ບຸນມີ",
        family_name_lo="ສີສຸວັນນະວົງ",
        given_name_en="Bounmy",
        family_name_en="Sisouvannavong",
        date_of_birth=names["date_of_birth"],
        phone=names["phone"],
        province_code=PROVINCE,
    )
    # The same person, typed with another romanisation and no Lao name.
    year, month, day = names["date_of_birth"].split("-")
    typed = {
        "given_name_en": "Bounmi",
        "family_name_en": "Sisouvanavong",
        "sex": "male",
        "date_of_birth.day": day,
        "date_of_birth.month": month,
        "date_of_birth.year": year,
        "province_code": PROVINCE,
    }
    hidden = await open_form(officer)

    # As the officer types: the check shows the registered person beside what is typed.
    check = await officer.post(
        "/register/check", data={**hidden, **typed}, headers={"HX-Request": "true"}
    )
    assert check.status_code == 200
    assert bounmy["reference"] in check.text
    assert "ບຸນມີ" in check.text
    assert "Bounmi" in check.text
    assert f'href="/people/{bounmy["reference"]}"' in check.text  # open this person

    # Without JavaScript, the registration itself is stopped (409), both side by side.
    stopped = await submit(officer, hidden, typed)
    assert stopped.status_code == 409
    table = stopped.text[stopped.text.index('<table class="compare">') :]
    assert "Bounmi Sisouvanavong" in table
    assert "Bounmy Sisouvannavong" in table
    assert "ບຸນມີ ສີສຸວັນນະວົງ" in table
    assert 'href="#f-duplicates"' in stopped.text  # the error summary leads to them
    assert 'id="f-confirm_not_duplicate"' in stopped.text
    assert 'value="Bounmi"' in stopped.text  # what was typed is kept
    count = await fetchval(
        console_settings, "registry", "SELECT count(*) FROM people WHERE given_name_en = 'Bounmi'"
    )
    assert count == 0

    # A tick for people the officer was not shown (the form says whom it saw) is not enough.
    blind = await submit(officer, hidden, {**typed, "confirm_not_duplicate": "yes"})
    assert blind.status_code == 409
    assert "ມີຄົນອື່ນທີ່ລົງທະບຽນແລ້ວ ຄ້າຍກັບບຸກຄົນນີ້ອີກ" in blind.text
    seen = re.search(r'name="duplicates_seen" value="([^"]*)"', stopped.text)
    assert seen
    assert seen[1] == bounmy["id"]

    # Shown again for another field, the page keeps the decision and whom it was about.
    other_field = await submit(
        officer,
        hidden,
        {**typed, "phone": "12", "confirm_not_duplicate": "yes", "duplicates_seen": seen[1]},
    )
    assert other_field.status_code == 422
    assert '<input type="hidden" name="confirm_not_duplicate" value="yes">' in other_field.text
    assert f'name="duplicates_seen" value="{seen[1]}"' in other_field.text

    # "Not the same person": registered, with the decision kept as the registry keeps it.
    decided = await submit(
        officer, hidden, {**typed, "confirm_not_duplicate": "yes", "duplicates_seen": seen[1]}
    )
    reference = reference_of(decided)
    override = await fetchval(
        console_settings,
        "registry",
        "SELECT duplicate_override::text FROM people WHERE reference = $1",
        reference,
    )
    assert '"decision": "not_them"' in override
    assert bounmy["id"] in override


async def test_a_duplicate_of_another_province_shows_its_card_and_the_decisions(
    officer: httpx.AsyncClient, console: Console, console_settings: Settings
) -> None:
    names = unique_names()
    # Xiangkhouang: no other test registers there (tests/registry/test_search.py counts the
    # people of Xaisomboun, so a person of its province here would break its lists).
    elsewhere = bearer(console_settings, "officer-xi-1", ["esc_staff"], office="ESC-XI")
    khamla = await register_directly(
        console,
        elsewhere,
        given_name_lo="ຄຳຫຼ້າ",
        given_name_en="Khamla",
        family_name_en="Vongsa",
        date_of_birth=names["date_of_birth"],
        phone=names["phone"],
        province_code="LA-XI",
    )
    year, month, day = names["date_of_birth"].split("-")
    typed = {
        "given_name_en": "Khamlaa",
        "family_name_en": "Vongsa",
        "sex": "female",
        "date_of_birth.day": day,
        "date_of_birth.month": month,
        "date_of_birth.year": year,
        "phone": names["phone"],
        "province_code": PROVINCE,
    }
    stopped = await submit(officer, await open_form(officer), typed)
    assert stopped.status_code == 409
    reference = khamla["reference"]
    assert reference in stopped.text
    assert "ແຂວງໄຊສົມບູນ" in stopped.text  # its province, named
    # Outside the officer's province: no "open", but a visit here or taking the record over.
    assert f'href="/people/{reference}"' not in stopped.text
    assert f'href="/people/{reference}/visit"' in stopped.text
    assert f'href="/people/{reference}/take-over"' in stopped.text

    # This is them, here for a service: the visit is recorded and their record opens.
    card = await officer.get(f"/people/{reference}/visit")
    assert card.status_code == 200
    assert "ຄຳຫຼ້າ" in card.text
    assert 'id="f-visit-reason"' in card.text
    short = await officer.post(
        f"/people/{reference}/visit", data={**hidden_fields(card.text), "visit.reason": "x"}
    )
    assert short.status_code == 422
    assert 'href="#f-visit-reason"' in short.text
    visited = await officer.post(
        f"/people/{reference}/visit",
        data={**hidden_fields(card.text), "visit.reason": "ມາຊອກວຽກຢູ່ອັດຕະປື"},
    )
    assert visited.status_code == 303
    opened = await officer.get(visited.headers["location"])
    assert opened.status_code == 200
    assert "ບັນທຶກການມາຕິດຕໍ່ແລ້ວ" in opened.text


async def test_the_registrys_refusals_show_beside_their_fields_in_lao_with_the_typing_kept(
    officer: httpx.AsyncClient,
) -> None:
    names = unique_names()
    typed = typed_person(
        names,
        given_name_lo="Somsak",  # not Lao script
        phone="12",
        **{
            "date_of_birth.day": "31",
            "date_of_birth.month": "2",
            "experience.0.isco08": "7212",
            "experience.0.years": "ສາມ",
        },
        consent_sms="given",
        consent_method="verbal",  # a witness is needed
    )
    refused = await submit(officer, await open_form(officer), typed)
    assert refused.status_code == 422
    html = refused.text
    summary = html[
        html.index('class="error-summary"') : html.index(
            "</ul>", html.index('class="error-summary"')
        )
    ]
    for target in ("f-given_name_lo", "f-phone", "f-date_of_birth", "f-experience-0-years"):
        assert f'href="#{target}"' in summary, target
    assert "ຊື່ ເປັນພາສາລາວ: " in summary  # each problem says which field it is about
    assert "ປະສົບການເຮັດວຽກທີ 1: ຈຳນວນປີ: " in summary
    # Each message beside its field, in Lao; what was typed stays in the boxes.
    assert 'id="f-given_name_lo-error"' in html
    assert 'value="Somsak"' in html
    assert 'id="f-date_of_birth-error"' in html
    assert 'value="31"' in html
    assert 'id="f-experience-0-years-error"' in html
    assert 'value="ສາມ"' in html
    assert re.search(r'id="f-phone-error">.*[\u0e80-\u0eff]', html)

    # Once the form is right, the registry's own rules follow (a witness for verbal consent).
    fixed = {
        **typed,
        "given_name_lo": names["given_name_lo"],
        "phone": names["phone"],
        "date_of_birth.day": "1",
        "experience.0.years": "3",
    }
    second = await submit(officer, hidden_fields(html), fixed)
    assert second.status_code == 422
    assert 'href="#f-consent_witness"' in second.text
    assert "ຕ້ອງມີຊື່ພະຍານ" in second.text
    done = await submit(officer, hidden_fields(html), {**fixed, "consent_witness": "ນາງ ແສງ"})
    reference_of(done)


async def test_a_district_must_lie_in_the_province_chosen(officer: httpx.AsyncClient) -> None:
    typed = typed_person(unique_names(), district="1301")  # Kaysone Phomvihane, Savannakhet
    refused = await submit(officer, await open_form(officer), typed)
    assert refused.status_code == 422
    assert 'href="#f-district"' in refused.text
    assert "ກະລຸນາເລືອກເມືອງໃນແຂວງທີ່ເລືອກໄວ້" in refused.text
    # The province's districts, for the field htmx swaps in when the province changes.
    districts = await officer.get("/register/districts", params={"province_code": "LA-SV"})
    assert districts.status_code == 200
    assert '<option value="1301">ໄກສອນ ພົມວິຫານ</option>' in districts.text
    assert districts.text.count("<option") == 16  # 15 districts and the empty choice


@pytest.mark.parametrize(("typed", "code"), [("ຊ່າງເຊື່ອມ", "7212"), ("bricklayer", "7112")])
async def test_an_occupation_is_chosen_by_typing_a_title_in_lao_or_english(
    officer: httpx.AsyncClient, typed: str, code: str
) -> None:
    found = await officer.get(
        "/register/occupations", params={"row": 1, "experience.1.search": typed}
    )
    assert found.status_code == 200
    assert f'name="experience.1.isco08" value="{code}"' in found.text
    # Without JavaScript: "find the occupation" shows the same choice in the whole form.
    page = await officer.post(
        "/register",
        data={**await open_form(officer), "experience.1.search": typed, "action": "find"},
    )
    assert page.status_code == 200
    assert f'name="experience.1.isco08" value="{code}"' in page.text
    assert f'value="{typed}"' in page.text


async def test_the_registration_page_is_small_for_a_weak_link(officer: httpx.AsyncClient) -> None:
    page = await officer.get("/register")
    assert page.headers["content-encoding"] == "gzip"
    # Its script and style are the console's own, cached a year: the page itself is the cost.
    assert int(page.headers["content-length"]) < 20 * 1024


async def test_a_job_title_typed_without_choosing_its_occupation_asks_for_the_choice(
    officer: httpx.AsyncClient,
) -> None:
    typed = typed_person(
        unique_names(), **{"experience.0.search": "ຊ່າງເຊື່ອມ", "experience.0.years": "2"}
    )
    refused = await submit(officer, await open_form(officer), typed)
    assert refused.status_code == 422
    assert 'href="#f-experience-0-isco08"' in refused.text
    assert "ກະລຸນາເລືອກອາຊີບທີ່ພົບຈາກຊື່ວຽກທີ່ພິມ" in refused.text
    # The occupations found for what was typed are there to choose from.
    assert 'name="experience.0.isco08" value="7212"' in refused.text
