"""Object-level access: officers see the people of their office's province, national roles all."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support import bearer, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


@pytest.fixture(scope="module")
def savannakhet(settings: Settings) -> dict[str, str]:
    return bearer(settings, "officer-sv-1", ["esc_staff"], office="ESC-SV")


@pytest.fixture(scope="module")
def national(settings: Settings) -> dict[str, str]:
    return bearer(settings, "ministry-1", ["esc_staff"], office="ESC-VT", national=True)


async def _register(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> dict:
    response = await client.post("/v1/jobseekers", json=jobseeker(**body), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_officer_of_another_province_can_neither_read_nor_change_a_person(
    registry_client: httpx.AsyncClient, auth: dict[str, str], savannakhet: dict[str, str]
) -> None:
    person = await _register(registry_client, auth)
    path = f"/v1/people/{person['id']}"

    answers = {
        "read": await registry_client.get(path, headers=savannakhet),
        "update": await registry_client.patch(
            path, json={"village": "Ban Xay"}, headers=savannakhet
        ),
        "consents": await registry_client.get(f"{path}/consents", headers=savannakhet),
        "consent": await registry_client.post(
            f"{path}/consents",
            json={"purpose": "job_matching", "status": "given", "method": "signed"},
            headers=savannakhet,
        ),
        "migrations": await registry_client.get(f"{path}/migrations", headers=savannakhet),
        "status": await registry_client.post(
            f"{path}/jobseeker/status",
            json={"status": "inactive", "reason": "found work"},
            headers=savannakhet,
        ),
        "erase": await registry_client.post(
            f"{path}/erasure", json={"reason": "request 12"}, headers=savannakhet
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 403)
    unchanged = await registry_client.get(path, headers=auth)
    assert unchanged.json()["village"] is None


async def test_lists_and_searches_never_show_people_of_another_province(
    registry_client: httpx.AsyncClient, auth: dict[str, str], savannakhet: dict[str, str]
) -> None:
    person = await _register(registry_client, auth, given_name_en="Vientianeonly")

    own_list = await registry_client.get("/v1/people?limit=200", headers=savannakhet)
    search = await registry_client.get("/v1/people?q=Vientianeonly", headers=savannakhet)
    asked = await registry_client.get("/v1/people?province_code=LA-VT", headers=savannakhet)

    assert own_list.status_code == search.status_code == 200
    assert person["id"] not in {p["id"] for p in own_list.json()["items"]}
    assert {p["province_code"] for p in own_list.json()["items"]} <= {"LA-SV"}
    assert search.json()["items"] == []
    assert asked.status_code == 403


async def test_an_officer_cannot_register_or_move_a_person_outside_their_province(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _register(registry_client, auth)

    register = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(province_code="LA-SV"), headers=auth
    )
    move = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"province_code": "LA-SV"}, headers=auth
    )

    assert register.status_code == move.status_code == 403


async def test_a_national_role_sees_and_searches_every_province(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: dict[str, str],
    national: dict[str, str],
) -> None:
    in_vt = await _register(registry_client, auth, given_name_en="Nationalvt")
    in_sv = await _register(
        registry_client, savannakhet, given_name_en="Nationalsv", province_code="LA-SV"
    )

    read = await registry_client.get(f"/v1/people/{in_sv['id']}", headers=national)
    found_vt = await registry_client.get("/v1/people?q=Nationalvt", headers=national)
    found_sv = await registry_client.get("/v1/people?q=Nationalsv", headers=national)

    assert read.status_code == 200
    assert [p["id"] for p in found_vt.json()["items"]] == [in_vt["id"]]
    assert [p["id"] for p in found_sv.json()["items"]] == [in_sv["id"]]


@pytest.mark.parametrize(
    "claims",
    [
        {"office": "ESC-NOWHERE"},  # an office that does not exist
        {},  # no office at all
        {"office": "ESC-SV", "province": "LA-VT"},  # a province claim the office contradicts
    ],
)
async def test_scope_comes_from_a_real_office(
    registry_client: httpx.AsyncClient, settings: Settings, claims: dict[str, str]
) -> None:
    headers = bearer(settings, "officer-x", ["esc_staff"], **claims)

    response = await registry_client.get("/v1/people", headers=headers)

    assert response.status_code == 403


async def test_only_admins_open_offices_and_new_offices_scope_their_staff(
    registry_client: httpx.AsyncClient, settings: Settings, auth: dict[str, str]
) -> None:
    admin = bearer(settings, "admin-1", ["admin"])
    office = {
        "code": "MRC-OU",
        "name_lo": "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງອຸດົມໄຊ",
        "name_en": "Migrant Resource Centre, Oudomxay",
        "kind": "mrc",
        "province_code": "la-ou",
    }

    refused = await registry_client.post("/v1/offices", json=office, headers=auth)
    created = await registry_client.post("/v1/offices", json=office, headers=admin)
    staff = bearer(settings, "officer-ou", ["mrc_staff"], office="MRC-OU")
    registered = await registry_client.post(
        "/v1/people", json=jobseeker(province_code="LA-OU"), headers=staff
    )

    assert refused.status_code == 403
    assert created.status_code == 201, created.text
    assert created.json()["province_code"] == "LA-OU"
    assert created.json()["name_lo"] == office["name_lo"]
    assert registered.status_code == 201, registered.text
    assert registered.json()["office_code"] == "MRC-OU"


async def test_offices_are_named_in_lao_and_english(
    registry_client: httpx.AsyncClient, settings: Settings, auth: dict[str, str]
) -> None:
    listed = await registry_client.get("/v1/offices?province_code=LA-SV", headers=auth)
    one_name = await registry_client.post(
        "/v1/offices",
        json={"code": "ESC-X1", "name": "Office", "kind": "esc", "province_code": "LA-SV"},
        headers=bearer(settings, "admin-1", ["admin"]),
    )

    assert listed.status_code == 200, listed.text
    names = {o["code"]: (o["name_lo"], o["name_en"]) for o in listed.json()["items"]}
    assert names["ESC-SV"] == (
        "ສູນບໍລິການຈັດຫາງານ ແຂວງສະຫວັນນະເຂດ",
        "Employment Service Centre, Savannakhet",
    )
    assert names["MRC-SV"][1] == "Migrant Resource Centre, Savannakhet"
    assert one_name.status_code == 422
    assert {e["field"] for e in one_name.json()["errors"]} == {"name_lo", "name_en", "name"}
