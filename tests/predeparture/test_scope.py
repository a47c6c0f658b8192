"""Who sees what in predeparture (docs/architecture.md): sessions scheduled or held are
national, read by every office and open to the people each officer serves; closed ones stay
with their office and province; a person is read by their province's staff, the offices that
serve them and the office whose session holds their place; every such read is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from shared.clock import LAO_TIME
from shared.db import asyncpg_dsn
from tests.predeparture.conftest import (
    admin,
    analyst,
    esc_officer,
    learner,
    mrc_staff,
    served_at,
)
from tests.predeparture.test_sessions import agency, end, new_session, set_status
from tests.support import fetch

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

# Vientiane's ESC, far from the Savannakhet centre whose sessions these tests use.
VT = ("ESC-VT", "LA-VT")


def vientiane(settings: Settings) -> dict[str, str]:
    return esc_officer(settings, "LA-VT")


async def enrol(
    client: httpx.AsyncClient,
    orientation: dict[str, Any],
    person: uuid.UUID,
    headers: dict[str, str],
) -> httpx.Response:
    return await client.post(
        f"/v1/sessions/{orientation['id']}/enrolments",
        json={"person_id": str(person)},
        headers=headers,
    )


async def audit_of(settings: Settings, person: uuid.UUID) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "predeparture",
        "SELECT * FROM predeparture_audit_log WHERE person_id = $1 ORDER BY id",
        person,
    )
    return [dict(r) for r in rows]


# -- sessions --------------------------------------------------------------------------------


async def test_scheduled_sessions_are_national_and_closed_ones_stay_with_their_province(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"
    assert (await predeparture_client.get(path, headers=vientiane(migrated))).status_code == 200

    await end(migrated, orientation)
    for status in ("held", "closed"):
        changed = await set_status(predeparture_client, migrated, orientation, status)
        assert changed.status_code == 200, changed.text
    # The day it was held, as offices read dates (Lao time).
    day = datetime.fromisoformat(changed.json()["starts_at"]).astimezone(LAO_TIME).date()

    refused = await predeparture_client.get(path, headers=vientiane(migrated))
    assert refused.status_code == 403
    assert "LA-SV" in refused.json()["detail"]
    for reader in (esc_officer(migrated, "LA-SV"), mrc_staff(migrated), analyst(migrated)):
        assert (await predeparture_client.get(path, headers=reader)).status_code == 200

    async def listed(headers: dict[str, str]) -> list[str]:
        found = await predeparture_client.get(
            "/v1/sessions",
            params={"from": day.isoformat(), "to": day.isoformat(), "limit": 200},
            headers=headers,
        )
        assert found.status_code == 200, found.text
        return [s["id"] for s in found.json()["items"]]

    assert orientation["id"] not in await listed(vientiane(migrated))
    assert orientation["id"] in await listed(esc_officer(migrated, "LA-SV"))
    assert orientation["id"] in await listed(analyst(migrated))
    roster = await predeparture_client.get(f"{path}/roster.pdf", headers=vientiane(migrated))
    assert roster.status_code == 403


# -- enrolment -------------------------------------------------------------------------------


async def test_any_office_enrols_the_people_it_serves_in_a_session_open_to_all(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    own = await learner(producer, migrated, province_code="LA-VT")
    linked = await learner(producer, migrated, province_code="LA-KH")
    await served_at(producer, migrated, linked, *VT)
    stranger = await learner(producer, migrated, province_code="LA-KH")

    answers = [
        await enrol(predeparture_client, orientation, person, vientiane(migrated))
        for person in (own, linked, stranger)
    ]

    assert [a.status_code for a in answers] == [201, 201, 403]
    assert "visit" in answers[2].json()["detail"]
    [entry] = await audit_of(migrated, linked)
    assert (entry["action"], entry["office_code"], entry["actor"]) == (
        "enrolled",
        "ESC-VT",
        "esc-vt-1",
    )
    assert (entry["basis"], entry["subject_id"]) == ("serving", uuid.UUID(orientation["id"]))
    assert (await audit_of(migrated, own))[0]["basis"] == "province"
    assert await audit_of(migrated, stranger) == []


async def test_the_session_s_own_office_enrols_only_people_it_serves_too(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """Automatic invitations are the service's; an officer enrols people they serve."""
    orientation = await new_session(predeparture_client, migrated)
    elsewhere = await learner(producer, migrated, province_code="LA-CH")

    refused = await enrol(predeparture_client, orientation, elsewhere, mrc_staff(migrated))
    assert refused.status_code == 403, refused.text

    # The person came to the Savannakhet centre: registry links them to it.
    await served_at(producer, migrated, elsewhere, "MRC-SV", "LA-SV")
    enrolled = await enrol(predeparture_client, orientation, elsewhere, mrc_staff(migrated))
    assert enrolled.status_code == 201, enrolled.text


async def test_an_officer_cancels_the_places_of_the_people_they_serve_only(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    theirs = await learner(producer, migrated, province_code="LA-VT")
    local = await learner(producer, migrated)
    mine = await enrol(predeparture_client, orientation, theirs, vientiane(migrated))
    other = await enrol(predeparture_client, orientation, local, mrc_staff(migrated))

    path = f"/v1/sessions/{orientation['id']}/enrolments"
    refused = await predeparture_client.post(
        f"{path}/{other.json()['id']}/cancellation",
        json={"reason": "not mine to cancel"},
        headers=vientiane(migrated),
    )
    cancelled = await predeparture_client.post(
        f"{path}/{mine.json()['id']}/cancellation",
        json={"reason": "found work in Vientiane"},
        headers=vientiane(migrated),
    )

    assert refused.status_code == 403
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert [e["action"] for e in await audit_of(migrated, theirs)] == [
        "enrolled",
        "enrolment_cancelled",
    ]


# -- people ----------------------------------------------------------------------------------


async def test_a_learner_is_read_by_their_province_the_offices_serving_them_and_their_session(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await learner(producer, migrated, province_code="LA-KH")
    path = f"/v1/learners/{person}"

    async def status(headers: dict[str, str]) -> int:
        return (await predeparture_client.get(path, headers=headers)).status_code

    assert await status(esc_officer(migrated, "LA-KH")) == 200
    assert await status(vientiane(migrated)) == 403
    assert await status(mrc_staff(migrated)) == 403

    await served_at(producer, migrated, person, *VT)
    assert await status(vientiane(migrated)) == 200

    # Enrolled by Khammouane's ESC in a Savannakhet session: the centre reads them now.
    orientation = await new_session(predeparture_client, migrated)
    placed = await enrol(predeparture_client, orientation, person, esc_officer(migrated, "LA-KH"))
    assert placed.status_code == 201, placed.text
    assert await status(mrc_staff(migrated)) == 200
    assert await status(mrc_staff(migrated, "MRC-CH", "LA-CH")) == 403

    reads = [e for e in await audit_of(migrated, person) if e["action"] == "learner_read"]
    assert [(e["office_code"], e["basis"]) for e in reads] == [
        ("ESC-KH", "province"),
        ("ESC-VT", "serving"),
        ("MRC-SV", "serving"),
    ]


async def test_a_learner_list_holds_only_the_people_the_officer_serves(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    # Phongsaly: a province of its own in these tests.
    local, linked, other = [
        await learner(producer, migrated, province_code=p) for p in ("LA-PH", "LA-OU", "LA-OU")
    ]
    await served_at(producer, migrated, linked, "ESC-PH", "LA-PH")

    async def ids(headers: dict[str, str]) -> set[str]:
        found: set[str] = set()
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = await predeparture_client.get("/v1/learners", params=params, headers=headers)
            assert page.status_code == 200, page.text
            found |= {p["person_id"] for p in page.json()["items"]}
            if not (cursor := page.json()["next_cursor"]):
                return found

    phongsaly = await ids(esc_officer(migrated, "LA-PH"))
    assert {str(local), str(linked)} <= phongsaly
    assert str(other) not in phongsaly
    assert {str(local), str(linked), str(other)} <= await ids(analyst(migrated))
    listed = [e for e in await audit_of(migrated, linked) if e["action"] == "listed"]
    assert {e["office_code"] for e in listed} >= {"ESC-PH"}


async def test_the_roster_shows_another_office_only_the_people_it_serves(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    local = await learner(producer, migrated)
    theirs = await learner(producer, migrated, province_code="LA-VT")
    assert (await enrol(predeparture_client, orientation, local, mrc_staff(migrated))).is_success
    assert (await enrol(predeparture_client, orientation, theirs, vientiane(migrated))).is_success
    path = f"/v1/sessions/{orientation['id']}"

    async def people(part: str, headers: dict[str, str]) -> set[str]:
        found = await predeparture_client.get(f"{path}/{part}", headers=headers)
        assert found.status_code == 200, found.text
        body = found.json()
        entries = body["enrolled"] if part == "enrolments" else body["people"]
        return {e["person_id"] for e in entries}

    for part in ("enrolments", "attendance"):
        assert await people(part, mrc_staff(migrated)) == {str(local), str(theirs)}
        assert await people(part, vientiane(migrated)) == {str(theirs)}
        assert await people(part, admin(migrated)) == {str(local), str(theirs)}
    shown = [e for e in await audit_of(migrated, theirs) if e["action"] == "roster_read"]
    assert {(e["office_code"], e["basis"]) for e in shown} >= {("MRC-SV", "session")}


async def test_agencies_and_partners_read_no_roster(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    for part in ("enrolments", "attendance", "roster.pdf"):
        response = await predeparture_client.get(
            f"/v1/sessions/{orientation['id']}/{part}", headers=agency(migrated)
        )
        assert response.status_code == 403, part


# -- the audit trail -------------------------------------------------------------------------


async def test_admins_read_the_audit_trail_which_nothing_can_change(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await learner(producer, migrated, province_code="LA-VT")
    read = await predeparture_client.get(f"/v1/learners/{person}", headers=vientiane(migrated))
    assert read.status_code == 200

    trail = await predeparture_client.get(
        "/v1/audit", params={"person_id": str(person)}, headers=admin(migrated)
    )
    assert trail.status_code == 200, trail.text
    [entry] = trail.json()["items"]
    assert (entry["action"], entry["actor"], entry["office_code"], entry["basis"]) == (
        "learner_read",
        "esc-vt-1",
        "ESC-VT",
        "province",
    )
    refused = await predeparture_client.get(
        "/v1/audit", params={"person_id": str(person)}, headers=vientiane(migrated)
    )
    assert refused.status_code == 403
    unfiltered = await predeparture_client.get("/v1/audit", headers=admin(migrated))
    assert unfiltered.status_code == 422
    conn = await asyncpg.connect(asyncpg_dsn(migrated.service_database_url("predeparture")))
    try:
        for statement in (
            "UPDATE predeparture_audit_log SET actor = 'someone else'",
            "DELETE FROM predeparture_audit_log",
            "TRUNCATE predeparture_audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()
