"""Migration records over HTTP: the enforced lifecycle, MOU permit dates, events and access."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from shared import clock
from shared.auth import mint_token
from tests.support import fetch, fetchval, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

CHANGED = "lao.labourx.registry.person.migration_status_changed.v1"


async def _person(client: httpx.AsyncClient, auth: dict[str, str], phone: str, **kw: object) -> str:
    response = await client.post("/v1/jobseekers", json=jobseeker(phone=phone, **kw), headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _open(
    client: httpx.AsyncClient, auth: dict[str, str], person: str, **kw: object
) -> httpx.Response:
    body = {"destination_country": "th", "channel": "mou", **kw}
    return await client.post(f"/v1/people/{person}/migrations", json=body, headers=auth)


async def _move(
    client: httpx.AsyncClient, auth: dict[str, str], record: str, **body: object
) -> httpx.Response:
    return await client.post(f"/v1/migrations/{record}/status", json=body, headers=auth)


async def test_a_worker_goes_abroad_and_comes_back(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5820 0001")
    opened = await _open(registry_client, auth, person, passport_number="pa1234567")
    assert opened.status_code == 201, opened.text
    record = opened.json()
    assert (record["status"], record["destination_country"]) == ("prospective", "TH")
    assert record["passport_number"] == "PA1234567"
    rid = record["id"]
    left = (clock.today() - timedelta(days=400)).isoformat()
    issued = (clock.today() - timedelta(days=390)).isoformat()
    today = clock.today().isoformat()

    steps: list[dict[str, object]] = [
        {"status": "ready", "agency_code": "AG-017"},
        {"status": "departed", "on": left},
        {"status": "abroad", "permit_number": "WP-889900", "permit_issued_on": issued},
        {
            "status": "returned",
            "on": today,
            "return_reason": "contract_completed",
            "skills_gained": ["forklift", "food processing", "forklift"],
        },
    ]
    for step in steps:
        response = await _move(registry_client, auth, rid, **step)
        assert response.status_code == 200, response.text
    final = response.json()
    assert final["status"] == "returned"
    assert final["skills_gained"] == ["forklift", "food processing"]
    permit_end = date.fromisoformat(issued).replace(year=date.fromisoformat(issued).year + 2)
    assert final["permit_expires_on"] == (permit_end - timedelta(days=1)).isoformat()
    assert final["return_due_on"] == (permit_end - timedelta(days=31)).isoformat()

    rows = await fetch(
        migrated,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        person,
        CHANGED,
    )
    events = [json.loads(r["value"])["data"] for r in rows]
    assert [(e["previous_status"], e["status"]) for e in events] == [
        (None, "prospective"),
        ("prospective", "ready"),
        ("ready", "departed"),
        ("departed", "abroad"),
        ("abroad", "returned"),
    ]
    # The event that announces the permit carries the date notify reminds the worker of.
    assert events[3]["return_due_on"] == final["return_due_on"]

    # A closed record allows a new one: the next stay abroad.
    assert (await _open(registry_client, auth, person)).status_code == 201


async def test_an_invalid_change_answers_409_naming_the_current_state(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5820 0002")
    rid = (await _open(registry_client, auth, person)).json()["id"]
    before = await fetchval(
        migrated, "registry", "SELECT count(*) FROM outbox WHERE key = $1", person
    )

    response = await _move(registry_client, auth, rid, status="departed", on="2026-01-01")

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["current_status"] == "prospective"
    assert set(problem["allowed"]) == {"ready", "cancelled"}
    record = (await registry_client.get(f"/v1/migrations/{rid}", headers=auth)).json()
    assert record["status"] == "prospective"
    after = await fetchval(
        migrated, "registry", "SELECT count(*) FROM outbox WHERE key = $1", person
    )
    assert after == before


async def test_requirements_name_the_missing_field(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _person(registry_client, auth, "020 5820 0003")
    rid = (await _open(registry_client, auth, person)).json()["id"]

    no_agency = await _move(registry_client, auth, rid, status="ready")
    assert no_agency.status_code == 422
    assert no_agency.json()["errors"][0]["field"] == "agency_code"
    assert (
        await _move(registry_client, auth, rid, status="ready", agency_code="AG-1")
    ).status_code == 200
    no_date = await _move(registry_client, auth, rid, status="departed")
    assert no_date.json()["errors"][0]["field"] == "on"
    future = (clock.today() + timedelta(days=3)).isoformat()
    assert (
        await _move(registry_client, auth, rid, status="departed", on=future)
    ).status_code == 422


async def test_one_open_record_per_person_and_adults_only(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _person(registry_client, auth, "020 5820 0004")
    first = await _open(registry_client, auth, person)
    second = await _open(registry_client, auth, person)
    assert second.status_code == 409
    assert second.json()["existing_id"] == first.json()["id"]

    sixteen = (clock.today() - timedelta(days=16 * 366)).isoformat()
    minor = await _person(registry_client, auth, "020 5820 0005", date_of_birth=sixteen)
    refused = await _open(registry_client, auth, minor)
    assert refused.status_code == 422
    # The birth date is the record's: the error names what the request sent, the person.
    assert refused.json()["errors"][0]["field"] == "person_id"

    bad = await _open(registry_client, auth, person, destination_country="XX", channel="boat")
    assert {e["field"] for e in bad.json()["errors"]} == {"destination_country", "channel"}


async def test_staff_of_another_province_cannot_see_or_change_a_record(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5820 0006")
    rid = (await _open(registry_client, auth, person)).json()["id"]
    other = mint_token(
        migrated, subject="officer-sv", roles=["mrc_staff"], office="MRC-SV", province="LA-SV"
    )
    elsewhere = {"Authorization": f"Bearer {other}"}

    assert (
        await registry_client.get(f"/v1/migrations/{rid}", headers=elsewhere)
    ).status_code == 403
    assert (await _move(registry_client, elsewhere, rid, status="cancelled")).status_code == 403
    listed = await registry_client.get(f"/v1/people/{person}/migrations", headers=elsewhere)
    assert listed.status_code == 403
