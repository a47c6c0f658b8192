"""Orientation sessions: scheduling at a Migrant Resource Centre, changes told to the people
enrolled, the lifecycle scheduled → held → closed or cancelled, each change announced, and who
may do what."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID
from shared import clock
from shared.db import asyncpg_dsn
from shared.events.predeparture import EnrolmentChanged, SessionStatusChanged
from tests.predeparture.conftest import admin, analyst, esc_officer, learner, mrc_staff
from tests.support import bearer, fetch, fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

SESSION_CHANGED = SessionStatusChanged.event_type()
ENROLMENT_CHANGED = EnrolmentChanged.event_type()
OUTBOX = "SELECT count(*) FROM outbox"
SESSIONS = "SELECT count(*) FROM orientation_sessions"


# -- helpers other orientation tests share ---------------------------------------------------


async def curriculum(settings: Settings) -> tuple[str, list[str]]:
    """The shipped default curriculum (its id and module codes), or, in a database without
    it, a small active one made for the tests."""
    codes = await fetch(
        settings,
        "predeparture",
        "SELECT m.code FROM curriculum_modules m JOIN curricula c ON c.id = m.curriculum_id"
        " WHERE c.id = $1 AND c.status = 'active' ORDER BY m.position",
        DEFAULT_CURRICULUM_ID,
    )
    if codes:
        return str(DEFAULT_CURRICULUM_ID), [r["code"] for r in codes]
    curriculum_id = uuid.uuid4()
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url("predeparture")))
    try:
        await conn.execute(
            "INSERT INTO curricula (id, code, version, title_lo, title_en,"
            " completion_window_months, validity_months, status, created_by)"
            " VALUES ($1, $2, 1, 'ທົດລອງ', 'Test orientation', 6, 12, 'active', 'test')",
            curriculum_id,
            f"T-{curriculum_id.hex[:8]}",
        )
        modules = [("RIGHTS", True, []), ("SAFE-MIG", True, []), ("TH-LAW", True, ["TH"])]
        for position, (code, mandatory, destinations) in enumerate(modules):
            await conn.execute(
                "INSERT INTO curriculum_modules (id, curriculum_id, code, position, title_lo,"
                " title_en, hours, mandatory, destinations)"
                " VALUES ($1, $2, $3, $4, $3, $3, 2.0, $5, $6)",
                uuid.uuid4(),
                curriculum_id,
                code,
                position,
                mandatory,
                destinations,
            )
    finally:
        await conn.close()
    return str(curriculum_id), [code for code, _, _ in modules]


_days = itertools.count(1)


def far_day() -> date:
    """A day years ahead that no other test schedules sessions on."""
    return clock.today() + timedelta(days=3000 + next(_days) * 3)


def at(day: date, hour: int) -> str:
    """`hour` o'clock in Lao time on `day`, as the API takes it."""
    return f"{day.isoformat()}T{hour:02d}:00:00+07:00"


async def session_body(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """A day of orientation at the Savannakhet MRC in ten days, in Lao, for 30 people."""
    curriculum_id, modules = await curriculum(settings)
    day = clock.today() + timedelta(days=10)
    body: dict[str, Any] = {
        "office_code": "MRC-SV",
        "curriculum_id": curriculum_id,
        "starts_at": at(day, 8),
        "ends_at": at(day, 16),
        "facilitator": "Ms Vilayvanh Phommachanh",
        "language": "lao",
        "venue": "MRC Savannakhet training room",
        "capacity": 30,
        "planned_modules": modules[:3],
    }
    return body | overrides


async def new_session(
    client: httpx.AsyncClient,
    settings: Settings,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body = await session_body(settings, **overrides)
    office = body["office_code"]
    who = headers or mrc_staff(settings, office, office.replace("MRC-", "LA-"))
    response = await client.post("/v1/sessions", json=body, headers=who)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def set_status(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    status: str,
    reason: str | None = None,
) -> httpx.Response:
    office = orientation["office_code"]
    return await client.post(
        f"/v1/sessions/{orientation['id']}/status",
        json={"status": status, "reason": reason},
        headers=mrc_staff(settings, office, office.replace("MRC-", "LA-")),
    )


async def start(settings: Settings, orientation: dict[str, Any]) -> None:
    """Time passes: the session began an hour ago, and runs six hours more."""
    await fetchval(
        settings,
        "predeparture",
        "UPDATE orientation_sessions SET starts_at = now() - interval '1 hour',"
        " ends_at = now() + interval '6 hours' WHERE id = $1 RETURNING id",
        uuid.UUID(orientation["id"]),
    )


async def end(settings: Settings, orientation: dict[str, Any]) -> None:
    """Time passes: the session ran the seven hours up to an hour ago."""
    await fetchval(
        settings,
        "predeparture",
        "UPDATE orientation_sessions SET starts_at = now() - interval '8 hours',"
        " ends_at = now() - interval '1 hour' WHERE id = $1 RETURNING id",
        uuid.UUID(orientation["id"]),
    )


async def events(settings: Settings, key: str, event_type: str) -> list[dict[str, Any]]:
    """The data of the events predeparture staged for one key, oldest first."""
    rows = await fetch(
        settings,
        "predeparture",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        key,
        event_type,
    )
    return [json.loads(row["value"])["data"] for row in rows]


def agency(settings: Settings) -> dict[str, str]:
    return bearer(settings, "agent-1", ["agency"], agency="AG-001")


def partner(settings: Settings) -> dict[str, str]:
    return bearer(settings, "partner-1", ["partner"])


# -- scheduling ------------------------------------------------------------------------------


async def test_mrc_staff_schedule_a_session_at_their_office_and_it_is_announced(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = await session_body(migrated)
    response = await predeparture_client.post(
        "/v1/sessions", json=body, headers=mrc_staff(migrated)
    )

    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    created = response.json()
    assert (created["office_code"], created["province_code"]) == ("MRC-SV", "LA-SV")
    assert (created["status"], created["language"], created["capacity"]) == ("scheduled", "lo", 30)
    assert created["planned_modules"] == body["planned_modules"]
    assert (created["enrolled"], created["waitlisted"], created["places_left"]) == (0, 0, 30)
    assert created["created_by"] == "mrc-sv-1"
    [scheduled] = await events(migrated, created["id"], SESSION_CHANGED)
    assert scheduled["status"] == "scheduled"
    assert scheduled.get("previous_status") is None
    assert (scheduled["office_code"], scheduled["province_code"]) == ("MRC-SV", "LA-SV")
    assert (scheduled["capacity"], scheduled["language"]) == (30, "lo")
    assert scheduled["venue"] == body["venue"]


async def test_a_village_outreach_session_is_recorded_with_its_district_and_village(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    created = await new_session(
        predeparture_client,
        migrated,
        outreach=True,
        district="Xaybouly",
        village="Ban Nongbua",
        venue="Ban Nongbua temple hall",
    )

    assert (created["outreach"], created["district"], created["village"]) == (
        True,
        "Xaybouly",
        "Ban Nongbua",
    )
    [scheduled] = await events(migrated, created["id"], SESSION_CHANGED)
    assert scheduled["outreach"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "2020-01-06T08:00:00+07:00"}, "starts_at"),
        ({"starts_at": "2030-01-06T08:00:00"}, "starts_at"),  # no time zone
        ({"ends_at": "2000-01-01T08:00:00+07:00"}, "ends_at"),
        ({"language": "xx"}, "language"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 201}, "capacity"),
        ({"planned_modules": []}, "planned_modules"),
        ({"planned_modules": ["COOKING"]}, "planned_modules"),
        ({"curriculum_id": str(uuid.uuid4())}, "curriculum_id"),
        ({"office_code": "ESC-SV"}, "office_code"),
        ({"outreach": True, "district": "Xaybouly"}, "village"),
        ({"outreach": True, "village": "Ban Nongbua"}, "district"),
        ({"facilitator": ""}, "facilitator"),
        ({"room": "B2"}, "room"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    predeparture_client: httpx.AsyncClient,
    migrated: Settings,
    overrides: dict[str, Any],
    field: str,
) -> None:
    body = await session_body(migrated, **overrides)
    before = (
        await fetchval(migrated, "predeparture", SESSIONS),
        await fetchval(migrated, "predeparture", OUTBOX),
    )

    response = await predeparture_client.post(
        "/v1/sessions", json=body, headers=mrc_staff(migrated)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    after = (
        await fetchval(migrated, "predeparture", SESSIONS),
        await fetchval(migrated, "predeparture", OUTBOX),
    )
    assert after == before


async def test_every_bad_field_of_a_new_session_is_named_in_one_answer(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = await session_body(
        migrated,
        starts_at="2020-01-06T08:00:00+07:00",
        ends_at="2020-01-06T07:00:00+07:00",
        outreach=True,
        planned_modules=["RIGHTS", "COOKING"],
    )
    before = await fetchval(migrated, "predeparture", SESSIONS)

    response = await predeparture_client.post(
        "/v1/sessions", json=body, headers=mrc_staff(migrated)
    )

    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["starts_at", "ends_at", "district", "village", "planned_modules"]
    assert await fetchval(migrated, "predeparture", SESSIONS) == before


async def test_a_retried_request_with_the_same_idempotency_key_schedules_one_session(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = await session_body(migrated, venue=f"Room {uuid.uuid4().hex[:6]}")
    headers = mrc_staff(migrated) | {"Idempotency-Key": str(uuid.uuid4())}

    first = await predeparture_client.post("/v1/sessions", json=body, headers=headers)
    again = await predeparture_client.post("/v1/sessions", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.content == first.content  # the same bytes, fields in the same order
    assert again.headers["Idempotent-Replayed"] == "true"
    count = await fetchval(
        migrated,
        "predeparture",
        "SELECT count(*) FROM orientation_sessions WHERE venue = $1",
        body["venue"],
    )
    assert count == 1


# -- reading ---------------------------------------------------------------------------------


async def test_sessions_are_listed_in_the_order_they_start_by_office_and_dates_in_pages(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    day = far_day()
    afternoon = await new_session(
        predeparture_client, migrated, starts_at=at(day, 13), ends_at=at(day, 17)
    )
    morning = await new_session(
        predeparture_client, migrated, starts_at=at(day, 8), ends_at=at(day, 12)
    )
    next_day = await new_session(
        predeparture_client,
        migrated,
        starts_at=at(day + timedelta(days=1), 8),
        ends_at=at(day + timedelta(days=1), 12),
    )
    elsewhere = await new_session(
        predeparture_client,
        migrated,
        office_code="MRC-CH",
        starts_at=at(day, 9),
        ends_at=at(day, 12),
    )
    params = {"office_code": "MRC-SV", "from": day.isoformat(), "to": day.isoformat()}

    page = await predeparture_client.get(
        "/v1/sessions", params=params | {"limit": 1}, headers=esc_officer(migrated)
    )
    assert page.status_code == 200, page.text
    following = await predeparture_client.get(
        "/v1/sessions",
        params=params | {"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=esc_officer(migrated),
    )
    assert [s["id"] for s in page.json()["items"]] == [morning["id"]]
    assert [s["id"] for s in following.json()["items"]] == [afternoon["id"]]
    assert following.json()["next_cursor"] is None

    both_days = await predeparture_client.get(
        "/v1/sessions",
        params={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()},
        headers=analyst(migrated),
    )
    assert [s["id"] for s in both_days.json()["items"]] == [
        morning["id"],
        elsewhere["id"],
        afternoon["id"],
        next_day["id"],
    ]
    cancelled = await predeparture_client.get(
        "/v1/sessions",
        params={"from": day.isoformat(), "status": "cancelled"},
        headers=analyst(migrated),
    )
    assert cancelled.json()["items"] == []


async def test_listing_with_a_bad_filter_names_it(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for params, field in [
        ({"status": "postponed"}, "status"),
        ({"from": "tomorrow"}, "from"),
        ({"from": "2031-01-02", "to": "2031-01-01"}, "to"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ]:
        response = await predeparture_client.get(
            "/v1/sessions", params=params, headers=analyst(migrated)
        )
        assert response.status_code == 422, params
        assert field in [e["field"] for e in response.json()["errors"]], params


async def test_an_unknown_session_is_404(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await predeparture_client.get(
        f"/v1/sessions/{uuid.uuid4()}", headers=analyst(migrated)
    )
    assert response.status_code == 404


# -- who may do what -------------------------------------------------------------------------


@pytest.mark.usefixtures("predeparture_consumer")
async def test_staff_of_another_mrc_cannot_schedule_or_manage_a_session_of_this_one(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    champasak = mrc_staff(migrated, "MRC-CH", "LA-CH")
    body = await session_body(migrated)
    refused = await predeparture_client.post("/v1/sessions", json=body, headers=champasak)
    assert refused.status_code == 403
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"
    # A Savannakhet person on the session's roster, whom Champasak does not serve.
    person = await learner(producer, migrated)
    place = await predeparture_client.post(
        f"{path}/enrolments", json={"person_id": str(person)}, headers=mrc_staff(migrated)
    )
    assert place.status_code == 201, place.text

    attempts = [
        await predeparture_client.patch(path, json={"capacity": 40}, headers=champasak),
        await predeparture_client.post(
            f"{path}/status", json={"status": "cancelled", "reason": "x y"}, headers=champasak
        ),
        await predeparture_client.post(
            f"{path}/enrolments",
            json={"person_id": str(await learner(producer, migrated))},
            headers=champasak,
        ),
        await predeparture_client.post(
            f"{path}/enrolments/{place.json()['id']}/cancellation",
            json={"reason": "moved away"},
            headers=champasak,
        ),
        await predeparture_client.get(f"{path}/roster.pdf", headers=champasak),
    ]

    assert [r.status_code for r in attempts[:4]] == [403, 403, 403, 403]
    assert "MRC-SV" in attempts[0].json()["detail"]
    assert "visit" in attempts[2].json()["detail"]  # how to come to serve the person
    # The printed roster of a session open to all: none of its people are Champasak's.
    assert attempts[4].status_code == 200
    [only] = await events(migrated, orientation["id"], SESSION_CHANGED)
    assert only["status"] == "scheduled"


async def test_office_staff_and_analysts_read_sessions_and_only_mrc_staff_or_admins_write(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"
    body = await session_body(migrated)

    for reader in (esc_officer(migrated), analyst(migrated), admin(migrated), mrc_staff(migrated)):
        assert (await predeparture_client.get(path, headers=reader)).status_code == 200
        roster = await predeparture_client.get(f"{path}/enrolments", headers=reader)
        assert roster.status_code == 200
    for outsider in (agency(migrated), partner(migrated)):
        assert (await predeparture_client.get(path, headers=outsider)).status_code == 403
        listed = await predeparture_client.get("/v1/sessions", headers=outsider)
        assert listed.status_code == 403
        roster = await predeparture_client.get(f"{path}/enrolments", headers=outsider)
        assert roster.status_code == 403
    for writer in (esc_officer(migrated), analyst(migrated), agency(migrated)):
        response = await predeparture_client.post("/v1/sessions", json=body, headers=writer)
        assert response.status_code == 403
    by_admin = await predeparture_client.post(
        "/v1/sessions", json=body | {"office_code": "MRC-BK"}, headers=admin(migrated)
    )
    assert by_admin.status_code == 201, by_admin.text
    assert by_admin.json()["province_code"] == "LA-BK"
    assert (await predeparture_client.get("/v1/sessions")).status_code == 401


# -- the lifecycle ---------------------------------------------------------------------------


async def test_a_session_is_held_and_closed_once_it_has_ended_each_change_announced(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)

    early = await set_status(predeparture_client, migrated, orientation, "held")
    assert early.status_code == 409
    assert early.json()["current_status"] == "scheduled"
    # Under way is not over: a session ending later today is not held (nor closed) yet.
    await start(migrated, orientation)
    running = await set_status(predeparture_client, migrated, orientation, "held")
    assert running.status_code == 409, running.text
    assert running.json()["type"].endswith("/session-not-ended")
    assert running.json()["field"] == "status"
    assert running.json()["ends_at"]
    assert "ends at" in running.json()["detail"]
    await end(migrated, orientation)
    held = await set_status(predeparture_client, migrated, orientation, "held")
    assert held.status_code == 200, held.text
    closed = await set_status(predeparture_client, migrated, orientation, "closed")
    assert closed.status_code == 200, closed.text

    assert (held.json()["status"], closed.json()["status"]) == ("held", "closed")
    assert closed.json()["version"] == 3
    announced = await events(migrated, orientation["id"], SESSION_CHANGED)
    assert [(e["status"], e.get("previous_status")) for e in announced] == [
        ("scheduled", None),
        ("held", "scheduled"),
        ("closed", "held"),
    ]
    assert announced[-1]["changed_by"] == "mrc-sv-1"


async def test_an_invalid_change_answers_409_with_the_current_status_and_what_is_allowed(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)

    skipped = await set_status(predeparture_client, migrated, orientation, "closed")
    assert skipped.status_code == 409
    assert skipped.json()["type"].endswith("/invalid-transition")
    assert skipped.json()["current_status"] == "scheduled"
    assert skipped.json()["allowed"] == ["cancelled", "held"]

    cancelled = await set_status(predeparture_client, migrated, orientation, "cancelled", "flood")
    assert cancelled.status_code == 200, cancelled.text
    again = await set_status(predeparture_client, migrated, orientation, "held")
    assert again.status_code == 409
    assert (again.json()["current_status"], again.json()["allowed"]) == ("cancelled", [])
    bad = await set_status(predeparture_client, migrated, orientation, "postponed")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "status"


async def test_cancelling_a_session_needs_a_reason(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)

    response = await set_status(predeparture_client, migrated, orientation, "cancelled")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    assert len(await events(migrated, orientation["id"], SESSION_CHANGED)) == 1


# -- changes ---------------------------------------------------------------------------------


async def test_a_change_needs_the_current_etag_and_is_announced(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"
    read = await predeparture_client.get(path, headers=mrc_staff(migrated))

    changed = await predeparture_client.patch(
        path,
        json={"facilitator": "Mr Khamphone Douangchak", "capacity": 25},
        headers=mrc_staff(migrated) | {"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    stale = await predeparture_client.patch(
        path,
        json={"capacity": 20},
        headers=mrc_staff(migrated) | {"If-Match": read.headers["ETag"]},
    )

    assert changed.headers["ETag"] == '"2"'
    assert (changed.json()["facilitator"], changed.json()["capacity"]) == (
        "Mr Khamphone Douangchak",
        25,
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    announced = await events(migrated, orientation["id"], SESSION_CHANGED)
    assert [(e["status"], e.get("previous_status"), e.get("reason")) for e in announced] == [
        ("scheduled", None, None),
        ("scheduled", "scheduled", "changed: capacity, facilitator"),
    ]


async def test_a_bad_change_names_the_field_and_changes_nothing(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"

    for body, field in [
        ({"ends_at": orientation["starts_at"]}, "ends_at"),
        ({"starts_at": "2020-01-01T08:00:00+07:00"}, "starts_at"),
        ({"venue": None}, "venue"),
        ({"planned_modules": ["COOKING"]}, "planned_modules"),
        ({"outreach": True}, "district"),
        ({"office_code": "MRC-CH"}, "office_code"),
    ]:
        response = await predeparture_client.patch(path, json=body, headers=mrc_staff(migrated))
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], body

    unchanged = await predeparture_client.get(path, headers=mrc_staff(migrated))
    assert unchanged.json()["version"] == 1
    assert len(await events(migrated, orientation["id"], SESSION_CHANGED)) == 1


async def test_every_bad_field_of_a_change_is_named_in_one_answer(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    path = f"/v1/sessions/{orientation['id']}"

    removed = await predeparture_client.patch(
        path, json={"venue": None, "facilitator": None}, headers=mrc_staff(migrated)
    )
    wrong = await predeparture_client.patch(
        path,
        json={
            "ends_at": orientation["starts_at"],
            "outreach": True,
            "planned_modules": ["COOKING"],
        },
        headers=mrc_staff(migrated),
    )

    assert removed.status_code == 422
    assert [e["field"] for e in removed.json()["errors"]] == ["facilitator", "venue"]
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == [
        "ends_at",
        "district",
        "village",
        "planned_modules",
    ]
    unchanged = await predeparture_client.get(path, headers=mrc_staff(migrated))
    assert unchanged.json()["version"] == 1


async def test_only_a_scheduled_session_can_be_changed(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    await set_status(predeparture_client, migrated, orientation, "cancelled", "no facilitator")

    response = await predeparture_client.patch(
        f"/v1/sessions/{orientation['id']}", json={"capacity": 10}, headers=mrc_staff(migrated)
    )

    assert response.status_code == 409
    assert response.json()["current_status"] == "cancelled"
