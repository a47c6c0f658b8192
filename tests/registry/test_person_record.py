"""The person record over HTTP: every part of the form, its validation, updates and events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from services.registry.people import registration as people_service
from tests.sealed import outbox_events
from tests.support import fetch, fetchval, full_registration, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


async def _events(settings: Settings, person_id: str) -> list[dict[str, Any]]:
    return await outbox_events(settings, person_id)


async def test_the_whole_form_is_stored_normalised_and_announced(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = full_registration(phone="+66 81 234 5678")

    response = await registry_client.post("/v1/jobseekers", json=body, headers=auth)

    assert response.status_code == 201, response.text
    person = response.json()
    assert person["phone"] == "+66812345678"  # Thai numbers too, in E.164
    assert person["ethnicity"] == "khmu"
    assert person["has_disability"] is True  # "a lot of difficulty" walking: WG-SS cut-off
    assert {d["kind"] for d in person["documents"]} == {"national_id", "family_book", "passport"}
    assert person["isced_level"] == 3
    assert person["skills"] == ["welding", "driving"]
    assert person["languages"][1] == {"code": "th", "proficiency": "basic"}  # ISO 639-3 → 639-1
    assert person["jobseeker"]["status"] == "active"
    assert person["jobseeker"]["desired_occupations"] == ["7212", "8322"]
    assert person["office_code"] == "ESC-VT"
    assert person["registered_by"] == "officer-vt-1"
    [event] = await _events(migrated, person["id"])
    assert event["type"] == "lao.labourx.registry.person.registered.v1"
    data = event["data"]
    assert data["has_disability"] is True
    assert data["jobseeker"]["willing_to_work_abroad"] is True
    assert "documents" not in data  # identity documents never leave the registry


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ethnicity": "martian"}, "ethnicity"),
        ({"email": "not-an-email"}, "email"),
        ({"disability": {"seeing": "blurry"}}, "disability.seeing"),
        ({"disability": {"smell": "no_difficulty"}}, "disability.smell"),
        ({"documents": [{"kind": "passport", "number": "P1234567"}]}, "documents.0"),
        ({"documents": [{"kind": "visa", "number": "V1234567"}]}, "documents.0.kind"),
        ({"education": {"isced_level": 9}}, "education.isced_level"),
        ({"experience": [{"isco08": "9999", "years": 1}]}, "experience.0.isco08"),
        ({"experience": [{"isco08": "7212", "years": -1}]}, "experience.0.years"),
        ({"languages": [{"code": "xx", "proficiency": "native"}]}, "languages.0.code"),
        ({"jobseeker": {"desired_occupations": ["12345"]}}, "jobseeker.desired_occupations.0"),
        ({"jobseeker": {"abroad_countries": ["XX"]}}, "jobseeker.abroad_countries.0"),
        ({"province_code": "TH-10"}, "province_code"),
        ({"family_name_en": "ພົມມະຈັນ"}, "family_name_en"),
    ],
)
async def test_each_bad_part_of_the_form_is_named(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    change: dict[str, object],
    field: str,
) -> None:
    response = await registry_client.post(
        "/v1/jobseekers", json=full_registration(**change), headers=auth
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_an_update_changes_only_what_was_sent_and_says_what_changed(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = (
        await registry_client.post("/v1/jobseekers", json=full_registration(), headers=auth)
    ).json()
    read = await registry_client.get(f"/v1/people/{person['id']}", headers=auth)
    etag = read.headers["etag"]

    response = await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={"village": "Ban Nongbone", "education": {"isced_level": 4}, "reason": "moved"},
        headers={**auth, "If-Match": etag},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["village"] == "Ban Nongbone"
    assert updated["isced_level"] == 4
    assert updated["ethnicity"] == "khmu"  # not sent, not touched
    assert updated["version"] == person["version"] + 1
    event = (await _events(migrated, person["id"]))[-1]
    assert event["type"] == "lao.labourx.registry.person.updated.v1"
    assert event["data"]["changed_fields"] == ["isced_level", "village"]
    assert event["data"]["village"] == "Ban Nongbone"


async def test_an_update_based_on_a_stale_read_is_refused(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    stale = {**auth, "If-Match": f'"{person["version"]}"'}
    first = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"district": "Xaysetha"}, headers=stale
    )

    second = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"district": "Chanthabuly"}, headers=stale
    )

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.json()["current_version"] == person["version"] + 1
    district = await fetchval(
        migrated, "registry", "SELECT district FROM people WHERE id = $1::uuid", person["id"]
    )
    assert district == "Xaysetha"


async def test_an_update_cannot_remove_both_names_nor_make_the_person_too_young(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()

    no_name = await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={"given_name_lo": None, "given_name_en": None},
        headers=auth,
    )
    too_young = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"date_of_birth": "2020-01-01"}, headers=auth
    )
    no_sex = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"sex": None}, headers=auth
    )

    assert no_name.status_code == too_young.status_code == no_sex.status_code == 422
    assert no_name.json()["errors"][0]["field"] == "given_name_lo"
    assert too_young.json()["errors"][0]["field"] == "date_of_birth"
    assert no_sex.json()["errors"][0]["field"] == "sex"


async def test_registering_a_person_without_a_jobseeker_profile(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await registry_client.post("/v1/people", json=jobseeker(), headers=auth)

    assert response.status_code == 201, response.text
    assert response.json()["jobseeker"] is None


async def test_office_codes_must_exist(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(office_code="ESC-NOWHERE"), headers=auth
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "office_code"


async def test_a_taken_reference_draws_another_and_writes_the_record_once(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)
    taken = first.json()["reference"]
    draws = iter([taken, taken, "P-ZZZZZZZ2"])
    monkeypatch.setattr(people_service, "new_reference", lambda: next(draws))

    response = await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)

    assert response.status_code == 201, response.text
    person = response.json()
    assert person["reference"] == "P-ZZZZZZZ2"
    assert person["jobseeker"]["status"] == "active"
    counts = await fetch(
        migrated,
        "registry",
        "SELECT (SELECT count(*) FROM people WHERE reference = $2) AS people,"
        " (SELECT count(*) FROM jobseeker_profiles WHERE person_id = $1::uuid) AS profiles,"
        " (SELECT count(*) FROM audit_log WHERE person_id = $1::uuid) AS entries",
        person["id"],
        "P-ZZZZZZZ2",
    )
    assert dict(counts[0]) == {"people": 1, "profiles": 1, "entries": 1}
    [event] = await _events(migrated, person["id"])
    assert event["data"]["reference"] == "P-ZZZZZZZ2"
