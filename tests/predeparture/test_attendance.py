"""Attendance: a whole session's roster in one request, checked as a whole; entered only by
staff of the session's office while the session runs; counted (certificates issued) only when
the session is closed after its end; corrected after closing through an append-only trail
that recomputes completions; retries that change nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID
from shared import clock
from shared.clock import LAO_TIME
from shared.db import asyncpg_dsn
from shared.events.envelope import envelope_for
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.events.registry import PersonMerged, PersonRegistered
from tests.events import publish
from tests.predeparture.conftest import (
    admin,
    analyst,
    esc_officer,
    mrc_staff,
    person_fields,
    send,
)
from tests.support import applied, fetch, fetchval, wait_until

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

# Luang Prabang's centre: sessions of these tests are theirs alone.
OFFICE, PROVINCE = "MRC-LP", "LA-LP"
GENERAL = ["RIGHTS", "SAFE-MIG", "OSH", "MONEY", "SOC-SEC", "GENDER", "HELP", "HEALTH"]
THAILAND = [*GENERAL, "DEST-TH"]
COMPLETED = OrientationCompleted.event_type()
WITHDRAWN = OrientationCompletionWithdrawn.event_type()


def staff(settings: Settings) -> dict[str, str]:
    return mrc_staff(settings, OFFICE, PROVINCE)


async def learners(
    producer: AIOKafkaProducer, settings: Settings, count: int, **fields: Any
) -> list[uuid.UUID]:
    """`count` people of Luang Prabang, whose centre runs these tests' sessions, registry
    announced to predeparture (published together, then awaited)."""
    home = {"province_code": PROVINCE, "office_code": OFFICE}
    payloads = [PersonRegistered(**person_fields(**(home | fields))) for _ in range(count)]
    envelopes = [envelope_for(p) for p in payloads]
    for payload, envelope in zip(payloads, envelopes, strict=True):
        await publish(producer, envelope, payload.topic)
    for envelope in envelopes:
        await wait_until(partial(applied, settings, "predeparture", envelope.id), timeout_s=30)
    return [p.person_id for p in payloads]


async def session_for(
    client: httpx.AsyncClient,
    settings: Settings,
    people: list[uuid.UUID],
    *,
    modules: list[str] = THAILAND,
    office: str = OFFICE,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A session scheduled at `office` for tomorrow with `people` enrolled, through the API."""
    headers = headers or staff(settings)
    starts = datetime.combine(clock.today() + timedelta(days=1), time(8, 30), LAO_TIME)
    response = await client.post(
        "/v1/sessions",
        json={
            "office_code": office,
            "curriculum_id": str(DEFAULT_CURRICULUM_ID),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=8)).isoformat(),
            "facilitator": "Khamla Vongsa",
            "language": "lo",
            "venue": "Migrant Resource Centre, meeting room",
            "capacity": max(len(people), 1),
            "planned_modules": modules,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    created = dict(response.json())
    for person in people:
        enrolled = await client.post(
            f"/v1/sessions/{created['id']}/enrolments",
            json={"person_id": str(person)},
            headers=headers,
        )
        assert enrolled.status_code == 201, enrolled.text
        assert enrolled.json()["status"] == "enrolled"
    return created


async def _move(settings: Settings, orientation: dict[str, Any], starts: datetime) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url("predeparture")))
    try:
        await conn.execute(
            "UPDATE orientation_sessions SET starts_at = $2, ends_at = $3 WHERE id = $1",
            uuid.UUID(orientation["id"]),
            starts,
            starts + timedelta(hours=8),
        )
    finally:
        await conn.close()


async def started(settings: Settings, orientation: dict[str, Any]) -> None:
    """Test setup, as if time had passed: the day's session began an hour ago and runs for
    seven more hours (attendance opens when it starts; it closes once it has ended)."""
    await _move(settings, orientation, datetime.now(UTC) - timedelta(hours=1))


async def finished(settings: Settings, orientation: dict[str, Any], on: date | None = None) -> None:
    """Test setup, as if time had passed: the session ran the eight hours up to an hour ago,
    or 08:30 to 16:30 on `on` (further back than late entry allows, for the window rules)."""
    if on is None:
        starts = datetime.now(UTC) - timedelta(hours=9)
    else:
        starts = datetime.combine(on, time(8, 30), LAO_TIME)
    await _move(settings, orientation, starts)


async def close(
    client: httpx.AsyncClient, settings: Settings, orientation: dict[str, Any]
) -> dict[str, Any]:
    """The session was held and is closed, through the API; the certificates closing issued."""
    for status in ("held", "closed"):
        response = await client.post(
            f"/v1/sessions/{orientation['id']}/status",
            json={"status": status},
            headers=staff(settings),
        )
        assert response.status_code == 200, response.text
    certificates: dict[str, Any] = response.json()["certificates"]
    return certificates


def rows(
    people: list[uuid.UUID], modules: list[str], status: str = "present"
) -> list[dict[str, Any]]:
    return [
        {"person_id": str(p), "module_code": m, "status": status} for p in people for m in modules
    ]


async def enter(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    roster: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.put(
        f"/v1/sessions/{orientation['id']}/attendance",
        json={"rows": roster},
        headers=headers or staff(settings),
    )


async def ready_session(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: Settings,
    count: int = 1,
    *,
    modules: list[str] = THAILAND,
    on: date | None = None,
) -> tuple[dict[str, Any], list[uuid.UUID]]:
    """A session of `count` enrolled learners that has ended, its roster still empty."""
    people = await learners(producer, settings, count)
    orientation = await session_for(client, settings, people, modules=modules)
    await finished(settings, orientation, on)
    return orientation, people


async def events(settings: Settings, person: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
    """The data of the events staged about a person, oldest first."""
    found = await fetch(
        settings,
        "predeparture",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        str(person),
        event_type,
    )
    return [json.loads(row["value"])["data"] for row in found]


async def cells(settings: Settings, orientation: dict[str, Any]) -> int:
    return int(
        await fetchval(
            settings,
            "predeparture",
            "SELECT count(*) FROM attendance WHERE session_id = $1",
            uuid.UUID(orientation["id"]),
        )
    )


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# -- entering a roster ---------------------------------------------------------------------------


async def test_a_whole_session_roster_is_entered_in_one_request_and_closing_issues_certificates(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated, 60)
    roster = rows(people, THAILAND)
    # Two people missed a module: one excused, one absent.
    roster[0] |= {"status": "excused", "note": "sick, comes to the next session"}
    roster[9]["status"] = "absent"  # people[1]'s RIGHTS

    response = await enter(predeparture_client, migrated, orientation, roster)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["changed"]) == (540, 540)
    assert await cells(migrated, orientation) == 540
    # Saving the roster issues nothing: the session is not closed.
    assert body["certificates"] == {"issued": [], "withdrawn": []}
    assert await events(migrated, people[2], COMPLETED) == []
    # 58 people attended every module and completed orientation for Thailand when it closed.
    certificates = await close(predeparture_client, migrated, orientation)
    issued = certificates["issued"]
    assert {c["person_id"] for c in issued} == {str(p) for p in people[2:]}
    assert {c["destination_country"] for c in issued} == {"TH"}
    assert certificates["withdrawn"] == []

    grid = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance", headers=analyst(migrated)
    )
    assert grid.status_code == 200
    assert grid.json()["modules"] == THAILAND
    lines = {line["person_id"]: line for line in grid.json()["people"]}
    assert set(lines) >= {str(p) for p in people}
    first = lines[str(people[0])]
    assert first["initials"]
    assert first["reference"]
    assert first["enrolled"]
    assert first["modules"]["RIGHTS"] == {
        "status": "excused",
        "note": "sick, comes to the next session",
        "recorded_by": "mrc-lp-1",
        "recorded_at": first["modules"]["OSH"]["recorded_at"],
    }
    assert lines[str(people[1])]["modules"]["RIGHTS"]["status"] == "absent"
    assert all(c["status"] == "present" for c in lines[str(people[2])]["modules"].values())
    assert all(len(lines[str(p)]["modules"]) == 9 for p in people)


async def test_a_roster_with_bad_rows_names_each_and_writes_nothing(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, [person] = await ready_session(predeparture_client, producer, migrated)
    [stranger] = await learners(producer, migrated, 1)
    roster = [
        {"person_id": str(person), "module_code": "RIGHTS", "status": "present"},
        {"person_id": str(stranger), "module_code": "RIGHTS", "status": "present"},
        {"person_id": str(person), "module_code": "DEST-KR", "status": "present"},
        {"person_id": str(person), "module_code": "rights", "status": "absent"},
        {"person_id": str(person), "module_code": "OSH", "status": "late"},
    ]

    response = await enter(predeparture_client, migrated, orientation, roster)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert fields(response) == [
        "rows.1.person_id",
        "rows.2.module_code",
        "rows.3.module_code",
        "rows.4.status",
    ]
    codes = [e["code"] for e in response.json()["errors"]]
    assert codes == ["not_enrolled", "not_planned", "duplicate", "unknown_status"]
    assert await cells(migrated, orientation) == 0
    assert await events(migrated, person, COMPLETED) == []


async def test_rows_pydantic_cannot_read_are_named_too(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, [person] = await ready_session(predeparture_client, producer, migrated)
    response = await enter(
        predeparture_client,
        migrated,
        orientation,
        [
            {"person_id": "not-an-id", "module_code": "RIGHTS", "status": "present"},
            {"person_id": str(person), "status": "present"},
        ],
    )
    assert response.status_code == 422
    assert fields(response) == ["rows.0.person_id", "rows.1.module_code"]
    empty = await enter(predeparture_client, migrated, orientation, [])
    assert empty.status_code == 422
    assert fields(empty) == ["rows"]
    assert await cells(migrated, orientation) == 0


async def test_only_staff_of_the_sessions_office_enter_attendance(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated)
    roster = rows(people, ["RIGHTS"])
    for headers in (
        mrc_staff(migrated, "MRC-SV", "LA-SV"),
        esc_officer(migrated, PROVINCE),
        analyst(migrated),
    ):
        refused = await enter(predeparture_client, migrated, orientation, roster, headers)
        assert refused.status_code == 403, refused.text
    unauthenticated = await predeparture_client.put(
        f"/v1/sessions/{orientation['id']}/attendance", json={"rows": roster}
    )
    assert unauthenticated.status_code == 401
    assert await cells(migrated, orientation) == 0

    assert (await enter(predeparture_client, migrated, orientation, roster)).status_code == 200
    by_admin = rows(people, ["OSH"])
    assert (
        await enter(predeparture_client, migrated, orientation, by_admin, admin(migrated))
    ).status_code == 200
    for headers in (esc_officer(migrated, "LA-VT"), analyst(migrated)):
        grid = await predeparture_client.get(
            f"/v1/sessions/{orientation['id']}/attendance", headers=headers
        )
        assert grid.status_code == 200


async def test_attendance_opens_when_the_session_starts_and_closes_with_it(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    people = await learners(producer, migrated, 1)
    orientation = await session_for(predeparture_client, migrated, people)
    roster = rows(people, ["RIGHTS"])

    early = await enter(predeparture_client, migrated, orientation, roster)
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/roster-not-open")

    await started(migrated, orientation)
    assert (await enter(predeparture_client, migrated, orientation, roster)).status_code == 200
    await finished(migrated, orientation)
    await close(predeparture_client, migrated, orientation)
    late = await enter(predeparture_client, migrated, orientation, rows(people, ["OSH"]))
    assert late.status_code == 409
    assert "correction" in late.json()["detail"]
    assert await cells(migrated, orientation) == 1

    unknown = await predeparture_client.put(
        f"/v1/sessions/{uuid.uuid4()}/attendance", json={"rows": roster}, headers=staff(migrated)
    )
    assert unknown.status_code == 404


async def test_sending_the_same_roster_again_changes_nothing_and_announces_nothing(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated, 2)
    roster = rows(people, THAILAND)
    first = await enter(predeparture_client, migrated, orientation, roster)
    assert first.status_code == 200

    again = await enter(predeparture_client, migrated, orientation, roster)

    assert again.status_code == 200
    assert again.json()["changed"] == 0
    assert again.json()["certificates"] == {"issued": [], "withdrawn": []}
    grid = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance", headers=staff(migrated)
    )
    recorded = {
        c["recorded_at"] for line in grid.json()["people"] for c in line["modules"].values()
    }
    assert len(recorded) == 1  # the first entry's time: the cells were not written again

    # A retry carrying an Idempotency-Key gets the first answer back, marked as a replay.
    key = {"Idempotency-Key": str(uuid.uuid4())}
    change = [
        {
            "person_id": str(people[0]),
            "module_code": "RIGHTS",
            "status": "present",
            "note": "arrived late",
        }
    ]
    once = await enter(predeparture_client, migrated, orientation, change, staff(migrated) | key)
    twice = await enter(predeparture_client, migrated, orientation, change, staff(migrated) | key)
    assert once.json()["changed"] == 1
    assert twice.headers.get("Idempotent-Replayed") == "true"
    assert twice.json() == once.json()
    assert twice.content == once.content  # the same bytes, fields in the same order

    assert len((await close(predeparture_client, migrated, orientation))["issued"]) == 2
    for person in people:
        assert len(await events(migrated, person, COMPLETED)) == 1
    certificates = await fetchval(
        migrated,
        "predeparture",
        "SELECT count(*) FROM completions WHERE person_id = ANY($1::uuid[])",
        people,
    )
    assert certificates == 2


async def test_a_roster_entered_at_once_by_two_clients_issues_one_certificate(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated, 3)
    roster = rows(people, THAILAND)
    answers = await asyncio.gather(
        *(enter(predeparture_client, migrated, orientation, roster) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len((await close(predeparture_client, migrated, orientation))["issued"]) == 3
    for person in people:
        assert len(await events(migrated, person, COMPLETED)) == 1


# -- corrections after closing -------------------------------------------------------------------


async def correct(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    roster: list[dict[str, Any]],
    reason: str = "sign-in sheet re-checked",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/v1/sessions/{orientation['id']}/attendance/corrections",
        json={"reason": reason, "rows": roster},
        headers=headers or staff(settings),
    )


async def test_a_correction_after_closing_is_audited_and_withdraws_the_completion(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, [person, other] = await ready_session(predeparture_client, producer, migrated, 2)
    await enter(predeparture_client, migrated, orientation, rows([person, other], THAILAND))
    closed = await close(predeparture_client, migrated, orientation)
    certificate = {c["person_id"]: c for c in closed["issued"]}[str(person)]

    reason = "signed in for OSH but left before it began"
    response = await correct(
        predeparture_client,
        migrated,
        orientation,
        [{"person_id": str(person), "module_code": "OSH", "status": "absent"}],
        reason,
    )

    assert response.status_code == 201, response.text
    [item] = response.json()["items"]
    assert (item["person_id"], item["module_code"]) == (str(person), "OSH")
    assert (item["previous_status"], item["status"]) == ("present", "absent")
    assert item["reason"] == reason
    assert item["corrected_by"] == "mrc-lp-1"
    assert response.json()["certificates"]["withdrawn"] == [certificate]
    trail = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance/corrections", headers=analyst(migrated)
    )
    assert trail.status_code == 200
    assert trail.json()["items"] == [item]
    grid = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance", headers=staff(migrated)
    )
    line = next(p for p in grid.json()["people"] if p["person_id"] == str(person))
    assert line["modules"]["OSH"]["status"] == "absent"

    [withdrawn] = await events(migrated, person, WITHDRAWN)
    assert withdrawn["certificate_number"] == certificate["certificate_number"]
    assert withdrawn["destination_country"] == "TH"
    assert reason in withdrawn["reason"]
    assert "OSH" in withdrawn["reason"]
    record = await predeparture_client.get(
        f"/v1/people/{person}/orientation", headers=staff(migrated)
    )
    [held] = record.json()["certificates"]
    assert held["state"] == "withdrawn"
    assert reason in held["withdrawn_reason"]
    [thailand] = record.json()["destinations"]
    assert thailand["complete"] is False
    assert thailand["missing"] == ["OSH"]
    # The other person's certificate stands.
    assert await events(migrated, other, WITHDRAWN) == []

    # The same correction sent again changes nothing.
    again = await correct(
        predeparture_client,
        migrated,
        orientation,
        [{"person_id": str(person), "module_code": "OSH", "status": "absent"}],
        reason,
    )
    assert again.status_code == 201
    assert again.json()["items"] == []
    assert len(await events(migrated, person, WITHDRAWN)) == 1

    # Marked present again: a new certificate, dated as before.
    restored = await correct(
        predeparture_client,
        migrated,
        orientation,
        [{"person_id": str(person), "module_code": "OSH", "status": "present"}],
        "the facilitator confirms they attended",
    )
    [reissued] = restored.json()["certificates"]["issued"]
    assert reissued["certificate_number"] != certificate["certificate_number"]
    assert reissued["completed_on"] == certificate["completed_on"]
    assert len(await events(migrated, person, COMPLETED)) == 2


async def test_the_corrections_trail_cannot_be_changed_or_emptied(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated)
    await enter(predeparture_client, migrated, orientation, rows(people, ["RIGHTS"]))
    await close(predeparture_client, migrated, orientation)
    response = await correct(
        predeparture_client, migrated, orientation, rows(people, ["RIGHTS"], "excused")
    )
    assert response.status_code == 201
    conn = await asyncpg.connect(asyncpg_dsn(migrated.service_database_url("predeparture")))
    try:
        for statement in (
            "UPDATE attendance_corrections SET reason = 'nothing happened'",
            "DELETE FROM attendance_corrections",
            "TRUNCATE attendance_corrections",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()
    trail = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance/corrections", headers=staff(migrated)
    )
    assert [i["reason"] for i in trail.json()["items"]] == ["sign-in sheet re-checked"]


async def test_corrections_are_for_closed_sessions_by_their_offices_staff_with_a_reason(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, people = await ready_session(predeparture_client, producer, migrated)
    roster = rows(people, ["RIGHTS"])
    await enter(predeparture_client, migrated, orientation, roster)

    still_open = await correct(predeparture_client, migrated, orientation, roster)
    assert still_open.status_code == 409
    assert "PUT" in still_open.json()["detail"]

    await close(predeparture_client, migrated, orientation)
    elsewhere = await correct(
        predeparture_client,
        migrated,
        orientation,
        rows(people, ["RIGHTS"], "absent"),
        headers=mrc_staff(migrated, "MRC-SV", "LA-SV"),
    )
    assert elsewhere.status_code == 403
    no_reason = await predeparture_client.post(
        f"/v1/sessions/{orientation['id']}/attendance/corrections",
        json={"rows": rows(people, ["RIGHTS"], "absent")},
        headers=staff(migrated),
    )
    assert no_reason.status_code == 422
    assert fields(no_reason) == ["reason"]
    bad_row = await correct(
        predeparture_client, migrated, orientation, rows(people, ["DEST-KR"], "absent")
    )
    assert bad_row.status_code == 422
    assert fields(bad_row) == ["rows.0.module_code"]
    trail = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}/attendance/corrections", headers=staff(migrated)
    )
    assert trail.json()["items"] == []


async def test_a_merge_completes_a_survivor_whose_two_records_each_attended_part(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """Registered twice, the person attended the general modules as one record and Thailand's
    as the other; once registry merges them the survivor holds the whole course."""
    duplicate, survivor = await learners(producer, migrated, 2)
    general = await session_for(predeparture_client, migrated, [duplicate], modules=GENERAL)
    thailand = await session_for(predeparture_client, migrated, [survivor], modules=["DEST-TH"])
    for orientation, person, modules in (
        (general, duplicate, GENERAL),
        (thailand, survivor, ["DEST-TH"]),
    ):
        await finished(migrated, orientation)
        entered = await enter(predeparture_client, migrated, orientation, rows([person], modules))
        assert entered.status_code == 200, entered.text
        assert (await close(predeparture_client, migrated, orientation))["issued"] == []
    before = await completions_of(migrated, survivor)

    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate,
            survivor_id=survivor,
            merged_by="mrc-lp-1",
            merged_at=datetime.now(UTC),
        ),
    )

    assert before == []
    assert await completions_of(migrated, survivor) == [("TH", "valid")]


async def completions_of(settings: Settings, person: uuid.UUID) -> list[tuple[str, str]]:
    found = await fetch(
        settings,
        "predeparture",
        "SELECT destination_country, status FROM completions WHERE person_id = $1",
        person,
    )
    return [(r["destination_country"], r["status"]) for r in found]
