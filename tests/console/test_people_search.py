"""The people search: one box for a name in either script, a phone in any form or a reference;
the registry's filters; paged; errors beside the field in Lao; cards of other provinces."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.console.conftest import Console, sign_in
from tests.support import bearer, jobseeker

if TYPE_CHECKING:
    from shared.settings import Settings

# Sekong: a province of these tests' own, so pages count only the people made here.
PROVINCE, OFFICE = "LA-XE", "ESC-XE"


async def _register(console: Console, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=console.services["registry"])
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as registry:
        made = await registry.post("/v1/jobseekers", json=jobseeker(**body), headers=headers)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


@pytest.fixture(scope="module")
async def bounmy(console: Console, console_settings: Settings) -> dict[str, Any]:
    officer = bearer(console_settings, "officer-xe-1", ["esc_staff"], office=OFFICE)
    return await _register(
        console,
        officer,
        given_name_lo="ບຸນມີ",
        family_name_lo="ສີສຸວັນນະວົງ",
        given_name_en="Bounmy",
        family_name_en="Sisouvannavong",
        phone="+856 20 5432 1987",
        province_code=PROVINCE,
    )


@pytest.fixture
async def officer(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(browser, office=OFFICE)
    return browser


def _references(html: str) -> list[str]:
    return re.findall(r'class="person-name" href="/people/(P-[0-9A-Z]+)"', html)


@pytest.mark.parametrize(
    "typed",
    [
        "ບຸນມີ ສີສຸວັນນະວົງ",  # Lao script
        "Bounmy Sisouvannavong",  # Latin letters
        "bounmi sisouvanavong",  # another romanisation
        "020 5432 1987",  # the phone as written in Laos
        "+8562054321987",  # ... and in international form
        "2054321987",
    ],
)
async def test_one_box_finds_a_person_by_name_in_either_script_or_phone_in_any_form(
    officer: httpx.AsyncClient, bounmy: dict[str, Any], typed: str
) -> None:
    found = await officer.get("/people", params={"q": typed})
    assert found.status_code == 200, found.text
    assert bounmy["reference"] in _references(found.text)
    assert f'value="{typed}"' in found.text  # what was typed stays in the box


async def test_a_reference_finds_exactly_that_person_and_links_to_their_page(
    officer: httpx.AsyncClient, bounmy: dict[str, Any]
) -> None:
    found = await officer.get("/people", params={"q": bounmy["reference"].lower()})
    assert _references(found.text) == [bounmy["reference"]]
    page = await officer.get(f"/people/{bounmy['reference']}")
    assert page.status_code == 200
    assert "ບຸນມີ ສີສຸວັນນະວົງ" in page.text
    assert "Bounmy Sisouvannavong" in page.text


async def test_a_query_the_registry_refuses_is_explained_beside_the_field_in_lao(
    officer: httpx.AsyncClient,
) -> None:
    refused = await officer.get("/people", params={"q": "ກ"})
    assert refused.status_code == 422
    html = refused.text
    # The summary at the top links to the field; the message is beside it too, in Lao.
    assert '<a href="#f-q">ກະລຸນາພິມຢ່າງໜ້ອຍ 2 ຕົວອັກສອນ.</a>' in html
    assert 'id="f-q-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="ກ"' in html

    wrong = await officer.get("/people", params={"occupation": "99999"})
    assert wrong.status_code == 422
    assert '<a href="#f-occupation">ນີ້ບໍ່ແມ່ນລະຫັດອາຊີບ ISCO-08' in wrong.text
    assert 'value="99999"' in wrong.text


async def test_filters_and_pages_are_the_registrys(
    console: Console, console_settings: Settings, officer: httpx.AsyncClient
) -> None:
    clerk = bearer(console_settings, "officer-xe-2", ["esc_staff"], office=OFFICE)
    women = [
        await _register(console, clerk, sex="female", province_code=PROVINCE) for _ in range(27)
    ]
    first = await officer.get("/people", params={"sex": "female", "office_code": OFFICE})
    assert first.status_code == 200
    shown = _references(first.text)
    assert len(shown) == 25
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following, "a next page"
    second = await officer.get(following[1].replace("&amp;", "&"))
    rest = _references(second.text)
    assert set(shown) | set(rest) >= {w["reference"] for w in women}
    assert not set(shown) & set(rest)
    assert "sex=female" in following[1]


async def test_the_search_updates_as_one_types_with_the_results_region_only(
    officer: httpx.AsyncClient, bounmy: dict[str, Any]
) -> None:
    partial = await officer.get("/people", params={"q": "Bounmy"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="search-region">')
    assert "<html" not in partial.text
    assert bounmy["reference"] in _references(partial.text)


async def test_someone_of_another_province_shows_as_the_registrys_identity_card(
    console: Console, console_settings: Settings, officer: httpx.AsyncClient
) -> None:
    savannakhet = bearer(console_settings, "officer-sv-9", ["esc_staff"], office="ESC-SV")
    far = await _register(console, savannakhet, province_code="LA-SV", phone="+856 20 5987 6543")
    found = await officer.get("/people", params={"q": "020 5987 6543"})
    assert found.status_code == 200
    assert "ບຸກຄົນນອກແຂວງຂອງທ່ານ" in found.text  # People outside your province
    assert far["reference"] in found.text
    assert "ແຂວງສະຫວັນນະເຂດ" in found.text  # their province, in Lao
    assert _references(found.text) == []  # no record to open
    # Their record itself stays closed: a page that says so, in Lao, not a trace.
    closed = await officer.get(f"/people/{far['reference']}")
    assert closed.status_code == 403
    assert "ທ່ານບໍ່ສາມາດເບິ່ງຂໍ້ມູນນີ້ໄດ້" in closed.text


async def test_a_person_page_only_takes_a_reference_or_an_id(officer: httpx.AsyncClient) -> None:
    for path in ("/people/%2E%2E", "/people/x%2Fslip.pdf", "/people/P-NOSUCH1"):
        answer = await officer.get(path)
        assert answer.status_code == 404, path
        assert "ບໍ່ພົບໜ້ານີ້" in answer.text or "ບໍ່ພົບ" in answer.text
