"""From a prospective migrant in registry to a worker matching may place abroad.

Registry registers the person and opens a prospective migration record; predeparture invites
them to the next session of the nearest Migrant Resource Centre; staff enter the class's
attendance and close the session once it is over, which issues the certificate; the completion
is announced; matching's read model holds the orientation, and an overseas placement that needs
it goes through; registry readies the migration record.

Every hop is real: the three APIs, their outbox relays, the broker and the consumers, running
as their processes would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.matching.app import SPEC as MATCHING
from services.predeparture.app import SPEC as PREDEPARTURE
from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID
from services.registry.app import SPEC as REGISTRY
from shared.outbox.relay import OutboxRelay
from tests.matching.test_agencies import agent, new_agency, overseas_body, set_status
from tests.matching.test_employers import officer
from tests.predeparture.conftest import mrc_staff
from tests.predeparture.test_attendance import THAILAND, finished
from tests.support import (
    EVENT_TRAVEL_S,
    clear_upcoming_sessions,
    full_registration,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from shared.settings import Settings

OFFICE, PROVINCE = "MRC-SV", "LA-SV"


@pytest.fixture(scope="module")
async def network(
    migrated: Settings,
    predeparture_consumer: None,
    matching_consumer: None,
    registry_consumer: None,
) -> AsyncIterator[None]:
    """Relays of the three services, and the session's consumers of predeparture, matching and
    registry (one member per group: a second one here made the group rebalance)."""
    stop = asyncio.Event()
    relays = [
        asyncio.create_task(OutboxRelay(migrated, spec.name).run(stop))
        for spec in (REGISTRY, PREDEPARTURE, MATCHING)
    ]
    yield
    stop.set()
    await asyncio.gather(*relays)


async def scheduled_session(client: httpx.AsyncClient, settings: Settings) -> dict[str, Any]:
    """A class at the Savannakhet MRC in three days, covering everything Thailand needs."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    response = await client.post(
        "/v1/sessions",
        json={
            "office_code": OFFICE,
            "curriculum_id": str(DEFAULT_CURRICULUM_ID),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=8)).isoformat(),
            "facilitator": "Vilaykham Phommasone",
            "language": "lo",
            "venue": "Migrant Resource Centre Savannakhet, training room",
            "capacity": 30,
            "planned_modules": THAILAND,
        },
        headers=mrc_staff(settings, OFFICE, PROVINCE),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_prospective_migrant_is_invited_oriented_and_then_ready_for_placement_abroad(
    network: None,
    registry_client: httpx.AsyncClient,
    predeparture_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    migrated: Settings,
) -> None:
    mrc = mrc_staff(migrated, OFFICE, PROVINCE)
    await clear_upcoming_sessions(migrated)
    orientation = await scheduled_session(predeparture_client, migrated)
    agency = await new_agency(matching_client, migrated)

    # Registry: registered at the MRC, consents to matching, prospective migrant to Thailand.
    body = full_registration(province_code=PROVINCE, district=None, village=None)
    created = await registry_client.post("/v1/jobseekers", json=body, headers=mrc)
    assert created.status_code == 201, created.text
    person = created.json()["id"]
    consent = await registry_client.post(
        f"/v1/people/{person}/consents",
        json={"purpose": "job_matching", "status": "given", "method": "signed"},
        headers=mrc,
    )
    opened = await registry_client.post(
        f"/v1/people/{person}/migrations",
        json={"destination_country": "TH", "channel": "mou", "agency_code": agency["code"]},
        headers=mrc,
    )
    assert (consent.status_code, opened.status_code) == (201, 201), opened.text

    # Predeparture invites them to the class by itself.
    async def invited() -> dict[str, Any] | None:
        roster = await predeparture_client.get(
            f"/v1/sessions/{orientation['id']}/enrolments", headers=mrc
        )
        mine = [e for e in roster.json()["enrolled"] if e["person_id"] == person]
        return mine[0] if mine else None

    enrolment = await wait_until(invited, timeout_s=EVENT_TRAVEL_S)

    # The class is held: attendance for the whole roster in one request, then, the day over,
    # the session is closed and the certificate issued.
    await finished(migrated, orientation)
    attended = await predeparture_client.put(
        f"/v1/sessions/{orientation['id']}/attendance",
        json={
            "rows": [
                {"person_id": person, "module_code": code, "status": "present"} for code in THAILAND
            ]
        },
        headers=mrc,
    )
    closing = [
        await predeparture_client.post(
            f"/v1/sessions/{orientation['id']}/status", json={"status": status}, headers=mrc
        )
        for status in ("held", "closed")
    ]
    record = await predeparture_client.get(f"/v1/people/{person}/orientation", headers=mrc)

    # Matching holds the completion and lets the worker be placed abroad.
    async def ready() -> dict[str, Any] | None:
        answer = await matching_client.get(
            f"/v1/candidates/{person}", headers=officer(migrated, PROVINCE)
        )
        if answer.status_code == 200 and answer.json()["orientations"]:
            return dict(answer.json())
        return None

    candidate = await wait_until(ready, timeout_s=EVENT_TRAVEL_S)
    draft = await matching_client.post(
        "/v1/vacancies",
        json=overseas_body(agency["id"], isco08="7212", title="Welder", province_code=PROVINCE),
        headers=agent(migrated, agency),
    )
    vacancy = await set_status(
        matching_client, officer(migrated, PROVINCE), draft.json(), "published"
    )
    referral = await matching_client.post(
        "/v1/referrals",
        json={"vacancy_id": vacancy["id"], "person_id": person},
        headers=officer(migrated, PROVINCE),
    )
    assert referral.status_code == 201, referral.text
    for status in ("interviewed", "offered"):
        moved = await matching_client.post(
            f"/v1/referrals/{referral.json()['id']}/status",
            json={"status": status},
            headers=officer(migrated, PROVINCE),
        )
        assert moved.status_code == 200, moved.text
    placed = await matching_client.post(
        f"/v1/referrals/{referral.json()['id']}/placement",
        json={},
        headers=officer(migrated, PROVINCE),
    )

    async def migration_ready() -> str | None:
        answer = await registry_client.get(f"/v1/people/{person}/migrations", headers=mrc)
        status = answer.json()["items"][0]["status"]
        return str(status) if status == "ready" else None

    assert enrolment["status"] == "enrolled"
    assert attended.status_code == 200, attended.text
    assert [c.status_code for c in closing] == [200, 200], closing[-1].text
    [issued] = closing[-1].json()["certificates"]["issued"]
    assert record.status_code == 200, record.text
    [certificate] = [c for c in record.json()["certificates"] if c["destination_country"] == "TH"]
    assert certificate["state"] == "valid"
    assert certificate["certificate_number"] == issued["certificate_number"]
    [held] = candidate["orientations"]
    assert (held["destination_country"], held["certificate_number"]) == (
        "TH",
        certificate["certificate_number"],
    )
    assert placed.status_code == 201, placed.text
    assert await wait_until(migration_ready, timeout_s=EVENT_TRAVEL_S) == "ready"
