"""Employers in the job bank: recorded by office staff, read by every officer and analyst."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.support import bearer, fetchval

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


def officer(settings: Settings, province: str = "LA-VT", subject: str = "") -> dict[str, str]:
    """An ESC officer of `province` (Vientiane Capital by default)."""
    suffix = province.removeprefix("LA-")
    return bearer(
        settings,
        subject or f"officer-{suffix.lower()}-1",
        ["esc_staff"],
        office=f"ESC-{suffix}",
        province=province,
    )


def supervisor(settings: Settings) -> dict[str, str]:
    """A ministry supervisor of recruitment agencies (role admin)."""
    return bearer(settings, "supervisor-1", ["admin"])


def analyst(settings: Settings) -> dict[str, str]:
    return bearer(settings, "analyst-1", ["analyst"], national=True)


def employer_body(**overrides: Any) -> dict[str, Any]:
    """A valid employer no other test registers (its registration number is unique)."""
    body: dict[str, Any] = {
        "name": "Lao Garment Factory",
        "registration_number": f"ERN-{uuid.uuid4().hex[:12]}",
        "isic_section": "c",
        "province_code": "LA-VT",
        "district": "Sikhottabong",
        "contact_name": "Ms Keo",
        "contact_phone": "020 5555 1234",
        "contact_email": "hr@garment.example.la",
    }
    return body | overrides


async def new_employer(
    client: httpx.AsyncClient, settings: Settings, **overrides: Any
) -> dict[str, Any]:
    # Recorded by an officer of the employer's province, the only ones who may.
    province = str(overrides.get("province_code", "LA-VT")).upper()
    response = await client.post(
        "/v1/employers", json=employer_body(**overrides), headers=officer(settings, province)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_officer_registers_an_employer_with_its_contact_normalised(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = employer_body()
    response = await matching_client.post("/v1/employers", json=body, headers=officer(migrated))
    assert response.status_code == 201, response.text
    employer = response.json()
    assert employer["isic_section"] == "C"
    assert employer["contact_phone"] == "+8562055551234"
    assert employer["registration_number"] == body["registration_number"].upper()
    assert employer["office_code"] == "ESC-VT"
    assert employer["created_by"] == "officer-vt-1"
    assert employer["version"] == 1

    read = await matching_client.get(
        f"/v1/employers/{employer['id']}", headers=officer(migrated, "LA-CH")
    )
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == employer


async def test_a_registration_number_is_registered_once(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    first = await new_employer(matching_client, migrated)
    again = await matching_client.post(
        "/v1/employers",
        json=employer_body(registration_number=first["registration_number"].lower()),
        headers=officer(migrated),
    )
    assert again.status_code == 409
    problem = again.json()
    assert problem["field"] == "registration_number"
    assert problem["existing_id"] == first["id"]
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_bad_reference_data_is_refused_naming_the_field(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    cases = {
        "isic_section": "Z",
        "province_code": "LA-XX",
        "contact_phone": "12",
        "contact_email": "not-an-address",
    }
    for field, value in cases.items():
        response = await matching_client.post(
            "/v1/employers", json=employer_body(**{field: value}), headers=officer(migrated)
        )
        assert response.status_code == 422, (field, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_only_office_staff_record_employers(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for headers in (analyst(migrated), bearer(migrated, "agent-1", ["agency"], agency="AG-1")):
        response = await matching_client.post(
            "/v1/employers", json=employer_body(), headers=headers
        )
        assert response.status_code == 403
    assert (
        await matching_client.post(
            "/v1/employers", json=employer_body(), headers=supervisor(migrated)
        )
    ).status_code == 201


async def test_employers_are_listed_by_province_section_and_name_a_page_at_a_time(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    marker = uuid.uuid4().hex[:8]
    made = [
        await new_employer(
            matching_client,
            migrated,
            name=f"Mekong {marker} Hotel {n}",
            isic_section="I",
            province_code="LA-LP",
        )
        for n in range(3)
    ]
    await new_employer(matching_client, migrated, name=f"Mekong {marker} Mine", isic_section="B")
    query: dict[str, Any] = {
        "q": f"{marker} hotel",
        "province_code": "la-lp",
        "isic_section": "I",
        "limit": 2,
    }
    first = await matching_client.get("/v1/employers", params=query, headers=analyst(migrated))
    assert first.status_code == 200, first.text
    page = first.json()
    assert [e["id"] for e in page["items"]] == [made[2]["id"], made[1]["id"]]
    second = await matching_client.get(
        "/v1/employers", params=query | {"cursor": page["next_cursor"]}, headers=analyst(migrated)
    )
    assert [e["id"] for e in second.json()["items"]] == [made[0]["id"]]
    assert second.json()["next_cursor"] is None

    wildcard = await matching_client.get(
        "/v1/employers", params={"q": "%"}, headers=analyst(migrated)
    )
    assert wildcard.status_code == 200
    assert not [e for e in wildcard.json()["items"] if marker in e["name"]]


async def test_an_update_changes_the_fields_sent_and_a_stale_version_is_refused(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated)
    url = f"/v1/employers/{employer['id']}"
    changed = await matching_client.patch(
        url,
        json={"contact_name": "Mr Somphone", "contact_phone": "+66 81 234 5678"},
        headers=officer(migrated) | {"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    updated = changed.json()
    assert (updated["contact_name"], updated["contact_phone"]) == ("Mr Somphone", "+66812345678")
    assert updated["name"] == employer["name"]

    stale = await matching_client.patch(
        url, json={"name": "Someone Else"}, headers=officer(migrated) | {"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    removed = await matching_client.patch(url, json={"name": None}, headers=officer(migrated))
    assert removed.status_code == 422
    assert removed.json()["errors"][0]["field"] == "name"
    assert (
        await fetchval(
            migrated,
            "matching",
            "SELECT name FROM employers WHERE id = $1",
            uuid.UUID(employer["id"]),
        )
        == employer["name"]
    )


async def test_every_bad_field_of_an_employer_request_is_named_in_one_answer(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated)
    removed = await matching_client.patch(
        f"/v1/employers/{employer['id']}",
        json={"name": None, "province_code": None, "isic_section": None},
        headers=officer(migrated),
    )
    filters = await matching_client.get(
        "/v1/employers",
        params={"province_code": "TH-10", "isic_section": "Z"},
        headers=analyst(migrated),
    )

    assert removed.status_code == 422
    assert [e["field"] for e in removed.json()["errors"]] == [
        "name",
        "isic_section",
        "province_code",
    ]
    assert filters.status_code == 422
    assert [e["field"] for e in filters.json()["errors"]] == ["province_code", "isic_section"]


async def test_an_update_to_a_registration_number_already_registered_is_refused(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    first = await new_employer(matching_client, migrated)
    second = await new_employer(matching_client, migrated)
    response = await matching_client.patch(
        f"/v1/employers/{second['id']}",
        json={"registration_number": first["registration_number"]},
        headers=officer(migrated),
    )
    assert response.status_code == 409
    assert response.json()["field"] == "registration_number"


async def test_an_idempotent_retry_registers_the_employer_once(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = employer_body()
    headers = officer(migrated) | {"Idempotency-Key": str(uuid.uuid4())}
    first = await matching_client.post("/v1/employers", json=body, headers=headers)
    retry = await matching_client.post("/v1/employers", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.content == first.content  # the same bytes, fields in the same order
    count = await fetchval(
        migrated,
        "matching",
        "SELECT count(*) FROM employers WHERE registration_number = $1",
        body["registration_number"].upper(),
    )
    assert count == 1


async def test_an_unknown_employer_is_not_found(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await matching_client.get(f"/v1/employers/{uuid.uuid4()}", headers=officer(migrated))
    assert response.status_code == 404
