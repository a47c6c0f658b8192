"""Finding a person by what they carry: the reference of their SMS or slip, their phone number
as people type it, an identity document number; in every province, cards outside the scope."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import bearer, fetch, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

CARD = {
    "id",
    "reference",
    "given_name_lo",
    "family_name_lo",
    "given_name_en",
    "family_name_en",
    "sex",
    "date_of_birth",
    "province_code",
    "province_name_lo",
    "province_name_en",
    "office_code",
    "office_name_lo",
    "office_name_en",
    "outside_scope",
    "actions",
}


@pytest.fixture(scope="module")
def savannakhet(settings: Settings) -> dict[str, str]:
    return bearer(settings, "officer-sv-lookup", ["mrc_staff"], office="MRC-SV")


async def _register(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post("/v1/jobseekers", json=jobseeker(**body), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _search(client: httpx.AsyncClient, headers: dict[str, str], q: str) -> dict[str, Any]:
    response = await client.get("/v1/people", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _lao_phone(n: int) -> tuple[str, str]:
    """A Lao mobile number of this test run, as E.164 and as its eight local digits."""
    local = f"5{n:07d}"
    return f"+85620{local}", local


async def test_a_person_is_found_by_the_reference_in_their_sms_however_it_is_typed(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _register(registry_client, auth)
    reference = person["reference"]  # P-XXXXXXXX
    code = reference.removeprefix("P-")

    for typed in (reference, reference.lower(), f"P{code}", f"  p-{code.lower()} "):
        found = await _search(registry_client, auth, typed)
        assert [p["id"] for p in found["items"]] == [person["id"]], typed


async def test_a_person_is_found_by_phone_in_every_form_people_type_it(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    e164, local = _lao_phone(uuid.uuid4().int % 10**7)
    person = await _register(registry_client, auth, phone=e164)

    for typed in (
        f"020 {local[:4]} {local[4:]}",
        f"20{local}",
        f"020{local}",
        e164,
        f"85620{local}",
        f"+856 20 {local[:4]} {local[4:]}",
    ):
        found = await _search(registry_client, auth, typed)
        assert [p["id"] for p in found["items"]] == [person["id"]], typed


async def test_a_thai_number_and_an_identity_document_find_the_person_too(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    thai = f"+6681{uuid.uuid4().int % 10**7:07d}"
    number = f"NID-{uuid.uuid4().hex[:8].upper()}"
    person = await _register(
        registry_client,
        auth,
        phone=thai,
        documents=[{"kind": "national_id", "number": number}],
    )

    by_phone = await _search(registry_client, auth, f"0{thai.removeprefix('+66')}")
    by_thai_e164 = await _search(registry_client, auth, thai)
    by_document = await _search(registry_client, auth, number.lower())

    assert [p["id"] for p in by_thai_e164["items"]] == [person["id"]]
    assert by_phone["items"] == []  # a local Thai number typed without +66 is read as Lao
    assert [p["id"] for p in by_document["items"]] == [person["id"]]


async def test_a_reference_opens_the_record_in_place_of_the_id(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _register(registry_client, auth)
    code = person["reference"].removeprefix("P-")

    read = await registry_client.get(f"/v1/people/{person['reference']}", headers=auth)
    typed = await registry_client.get(f"/v1/people/p{code.lower()}", headers=auth)
    consents = await registry_client.get(f"/v1/people/{person['reference']}/consents", headers=auth)
    unknown = await registry_client.get("/v1/people/P-22222222", headers=auth)
    nonsense = await registry_client.get("/v1/people/not-a-person", headers=auth)

    assert read.status_code == typed.status_code == consents.status_code == 200, read.text
    assert read.json()["id"] == typed.json()["id"] == person["id"]
    assert unknown.status_code == 404
    assert nonsense.status_code == 422
    assert nonsense.json()["errors"][0]["field"] == "person_id"


async def test_an_exact_lookup_finds_another_provinces_person_as_a_card_only(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: dict[str, str],
    migrated: Settings,
) -> None:
    e164, local = _lao_phone(uuid.uuid4().int % 10**7)
    person = await _register(
        registry_client,
        auth,
        phone=e164,
        email="lookup@example.la",
        documents=[{"kind": "family_book", "number": f"FB{local}"}],
    )

    for typed in (person["reference"], f"020 {local[:4]} {local[4:]}", f"fb{local}"):
        found = await _search(registry_client, savannakhet, typed)
        assert found["items"] == [], typed
        [card] = found["cards"]
        assert set(card) == CARD
        assert card["id"] == person["id"]
        assert card["outside_scope"] is True
        assert (card["given_name_lo"], card["given_name_en"]) == (
            person["given_name_lo"],
            person["given_name_en"],
        )
        assert card["office_code"] == "ESC-VT"
        assert card["office_name_lo"] == "ສູນບໍລິການຈັດຫາງານ ນະຄອນຫຼວງວຽງຈັນ"
        assert card["office_name_en"] == "Employment Service Centre, Vientiane Capital"
        assert card["province_name_en"] == "Vientiane Capital"
        assert {a["action"] for a in card["actions"]} == {"record_visit", "take_over"}
    shown = await fetch(
        migrated,
        "registry",
        "SELECT office_code, basis, reason FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'card_shown' AND actor = 'officer-sv-lookup'",
        person["id"],
    )
    assert [tuple(r) for r in shown] == [("MRC-SV", "card", "lookup")] * 3


async def test_a_name_search_stays_within_the_scope(
    registry_client: httpx.AsyncClient, auth: dict[str, str], savannakhet: dict[str, str]
) -> None:
    person = await _register(registry_client, auth, given_name_en="Lookuponlyvt")

    found = await _search(registry_client, savannakhet, "Lookuponlyvt")
    read = await registry_client.get(f"/v1/people/{person['reference']}", headers=savannakhet)

    assert found == {"items": [], "next_cursor": None, "cards": []}
    assert read.status_code == 403
