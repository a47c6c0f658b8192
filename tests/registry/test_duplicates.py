"""Duplicate detection at registration, the officer's override, and merging two records."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.support import bearer, fetch, fetchval, jobseeker, unique_names

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

# One person, as three officers might write her: in Lao script only, and in two romanisations.
LAO = {"given_name_lo": "ສົມສັກ", "family_name_lo": "ພົມມະວົງ"}
ROMAN_1 = {"given_name_en": "Somsak", "family_name_en": "Phommavong"}
ROMAN_2 = {"given_name_en": "Somsack", "family_name_en": "Phomavong"}


def _only(names: dict[str, str], **rest: Any) -> dict[str, Any]:
    """A registration body carrying these names and no others."""
    base = {k: v for k, v in jobseeker(**rest).items() if not k.startswith(("given", "family"))}
    return {**base, **names}


async def test_a_known_identity_document_answers_409_with_the_existing_id(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    document = {"kind": "national_id", "number": "NID-77001122"}
    first = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(documents=[document]), headers=auth
    )

    again = await registry_client.post(
        "/v1/jobseekers",
        json=jobseeker(documents=[{**document, "number": "nid-77001122"}]),
        headers=auth,
    )

    assert again.status_code == 409
    problem = again.json()
    assert problem["type"].endswith("/duplicate-document")
    assert problem["existing_id"] == first.json()["id"]


async def test_the_same_person_in_lao_script_and_two_romanisations_is_caught(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    first = await registry_client.post(
        "/v1/jobseekers", json=_only(LAO, date_of_birth=born), headers=auth
    )
    assert first.status_code == 201, first.text
    people_before = await fetchval(migrated, "registry", "SELECT count(*) FROM people")

    answers = [
        await registry_client.post(
            "/v1/jobseekers", json=_only(names, date_of_birth=born), headers=auth
        )
        for names in (ROMAN_1, ROMAN_2)
    ]

    for answer in answers:
        assert answer.status_code == 409, answer.text
        problem = answer.json()
        assert problem["type"].endswith("/probable-duplicate")
        [candidate] = problem["candidates"]
        assert candidate["id"] == first.json()["id"]
        assert candidate["same_date_of_birth"] is True
        assert candidate["name_similarity"] >= 0.85
        assert 0 < candidate["score"] <= 1
        assert "given_name_lo" not in candidate  # no names of people the officer may not see
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM people") == people_before


async def test_a_shared_phone_with_a_similar_name_is_a_probable_duplicate(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    phone = unique_names()["phone"]
    await registry_client.post("/v1/jobseekers", json=_only(ROMAN_1, phone=phone), headers=auth)

    answer = await registry_client.post(
        "/v1/jobseekers", json=_only(ROMAN_2, phone=phone), headers=auth
    )

    assert answer.status_code == 409
    assert answer.json()["candidates"][0]["same_phone"] is True


async def test_different_people_born_the_same_day_are_not_duplicates(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    born = unique_names()["date_of_birth"]
    await registry_client.post(
        "/v1/jobseekers", json=_only(ROMAN_1, date_of_birth=born), headers=auth
    )

    other = await registry_client.post(
        "/v1/jobseekers",
        json=_only({"given_name_en": "Bounmy", "family_name_en": "Keomany"}, date_of_birth=born),
        headers=auth,
    )

    assert other.status_code == 201, other.text


async def test_the_officer_can_confirm_a_different_person_and_it_is_recorded(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    first = await registry_client.post(
        "/v1/jobseekers", json=_only(ROMAN_1, date_of_birth=born), headers=auth
    )

    confirmed = await registry_client.post(
        "/v1/jobseekers",
        json={**_only(ROMAN_2, date_of_birth=born), "confirm_not_duplicate": True},
        headers=auth,
    )

    assert confirmed.status_code == 201, confirmed.text
    override = await fetchval(
        migrated,
        "registry",
        "SELECT duplicate_override FROM people WHERE id = $1::uuid",
        confirmed.json()["id"],
    )
    recorded = json.loads(override)
    assert recorded["confirmed_by"] == "officer-vt-1"
    assert recorded["candidates"][0]["id"] == first.json()["id"]
    [audit] = await fetch(
        migrated,
        "registry",
        "SELECT fields FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'duplicate_overridden'",
        confirmed.json()["id"],
    )
    assert audit["fields"] == [first.json()["id"]]


async def test_the_duplicate_check_alone_writes_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    first = await registry_client.post(
        "/v1/jobseekers", json=_only(LAO, date_of_birth=born), headers=auth
    )
    before = await fetchval(migrated, "registry", "SELECT count(*) FROM people")

    check = await registry_client.post(
        "/v1/people/duplicate-check", json=_only(ROMAN_2, date_of_birth=born), headers=auth
    )

    assert check.status_code == 200
    assert [c["id"] for c in check.json()["candidates"]] == [first.json()["id"]]
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM people") == before


async def test_a_merge_keeps_the_survivor_and_the_old_id_leads_to_it(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    survivor = (
        await registry_client.post(
            "/v1/jobseekers", json=_only(LAO, date_of_birth=born, phone=None), headers=auth
        )
    ).json()
    duplicate = (
        await registry_client.post(
            "/v1/jobseekers",
            json={
                **_only(ROMAN_1, date_of_birth=born),
                "confirm_not_duplicate": True,
                "documents": [{"kind": "family_book", "number": "FB-MERGE-1"}],
            },
            headers=auth,
        )
    ).json()
    consent = await registry_client.post(
        f"/v1/people/{duplicate['id']}/consents",
        json={"purpose": "job_matching", "status": "given", "method": "signed"},
        headers=auth,
    )
    assert consent.status_code == 201, consent.text

    merged = await registry_client.post(
        f"/v1/people/{survivor['id']}/merge",
        json={"duplicate_id": duplicate["id"], "reason": "same person, two offices"},
        headers=auth,
    )

    assert merged.status_code == 200, merged.text
    kept = merged.json()
    assert kept["id"] == survivor["id"]
    assert kept["given_name_en"] == "Somsak"  # blanks filled from the duplicate
    assert kept["phone"] == duplicate["phone"]
    assert [d["number"] for d in kept["documents"]] == ["FB-MERGE-1"]
    via_old_id = await registry_client.get(f"/v1/people/{duplicate['id']}", headers=auth)
    assert via_old_id.json()["id"] == survivor["id"]
    consents = await registry_client.get(f"/v1/people/{survivor['id']}/consents", headers=auth)
    assert [c["purpose"] for c in consents.json()["items"]] == ["job_matching"]
    [event] = await fetch(
        migrated,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type LIKE '%.merged.v1'",
        duplicate["id"],
    )
    assert json.loads(event["value"])["data"]["survivor_id"] == survivor["id"]
    tombstone = await fetch(
        migrated,
        "registry",
        "SELECT given_name_en, phone, record_status FROM people WHERE id = $1::uuid",
        duplicate["id"],
    )
    assert dict(tombstone[0]) == {"given_name_en": None, "phone": None, "record_status": "merged"}


async def test_a_merge_needs_both_records_in_scope(
    registry_client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    ours = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    savannakhet = bearer(settings, "officer-sv", ["esc_staff"], office="ESC-SV")
    theirs = (
        await registry_client.post(
            "/v1/jobseekers", json=jobseeker(province_code="LA-SV"), headers=savannakhet
        )
    ).json()

    response = await registry_client.post(
        f"/v1/people/{ours['id']}/merge",
        json={"duplicate_id": theirs["id"], "reason": "looks the same"},
        headers=auth,
    )

    assert response.status_code == 403
