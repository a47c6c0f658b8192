"""Paper and the past: a session or outreach held on a day without a connection is entered
afterwards, within LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS, marked as entered late (who, when) in
reads and events and audited; its roster is entered and the session closed as any other, which
issues the certificates dated the day it was held. Beyond the window: 422 naming the field and
the window."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.clock import LAO_TIME, today
from shared.events.predeparture import EnrolmentChanged, SessionStatusChanged
from shared.settings import Settings
from tests.predeparture.conftest import client_with, learner, mrc_staff
from tests.predeparture.test_outreach import outreach_body
from tests.predeparture.test_sessions import session_body
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

THAILAND = ["RIGHTS", "SAFE-MIG", "OSH", "MONEY", "SOC-SEC", "GENDER", "HELP", "HEALTH", "DEST-TH"]


def held(days_ago: int) -> dict[str, str]:
    """08:00 to 16:00, Lao time, `days_ago` days back."""
    day = today() - timedelta(days=days_ago)
    starts = datetime.combine(day, time(8), LAO_TIME)
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=8)).isoformat(),
    }


async def staged(settings: Settings, key: str, event_type: str) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "predeparture",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        key,
        event_type,
    )
    return [json.loads(r["value"])["data"] for r in rows]


async def audited(settings: Settings, subject: str) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "predeparture",
        "SELECT * FROM predeparture_audit_log WHERE subject_id = $1 ORDER BY id",
        uuid.UUID(subject),
    )
    return [dict(r) for r in rows]


async def test_a_session_held_offline_is_entered_late_rostered_closed_and_certified(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    staff = mrc_staff(migrated)
    body = await session_body(migrated, planned_modules=THAILAND, **held(3))
    created = await predeparture_client.post("/v1/sessions", json=body, headers=staff)
    assert created.status_code == 201, created.text
    orientation = created.json()
    assert orientation["entered_late"] is True
    assert orientation["created_by"] == "mrc-sv-1"
    [scheduled] = await staged(migrated, orientation["id"], SessionStatusChanged.event_type())
    assert scheduled["entered_late"] is True
    assert scheduled["entered_late_by"] == "mrc-sv-1"
    assert scheduled["entered_late_at"] == scheduled["changed_at"]
    [entry] = await audited(migrated, orientation["id"])
    assert (entry["action"], entry["actor"], entry["office_code"]) == (
        "session_entered_late",
        "mrc-sv-1",
        "MRC-SV",
    )
    assert "entered from paper" in entry["reason"]

    # The paper roster, typed in: the person was there, so they are enrolled, not invited.
    person = await learner(producer, migrated)
    path = f"/v1/sessions/{orientation['id']}"
    placed = await predeparture_client.post(
        f"{path}/enrolments", json={"person_id": str(person)}, headers=staff
    )
    assert placed.status_code == 201, placed.text
    [told] = await staged(migrated, str(person), EnrolmentChanged.event_type())
    assert told["entered_late"] is True
    rows = [{"person_id": str(person), "module_code": m, "status": "present"} for m in THAILAND]
    entered = await predeparture_client.put(
        f"{path}/attendance", json={"rows": rows}, headers=staff
    )
    assert entered.status_code == 200, entered.text
    for status in ("held", "closed"):
        changed = await predeparture_client.post(
            f"{path}/status", json={"status": status}, headers=staff
        )
        assert changed.status_code == 200, changed.text

    [certificate] = changed.json()["certificates"]["issued"]
    assert certificate["completed_on"] == (today() - timedelta(days=3)).isoformat()
    assert changed.json()["entered_late"] is True
    [closed] = (await staged(migrated, orientation["id"], SessionStatusChanged.event_type()))[-1:]
    assert (closed["status"], closed["entered_late"]) == ("closed", True)


async def test_a_session_held_before_the_window_is_refused_naming_starts_at_and_the_window(
    migrated: Settings,
) -> None:
    five_days = migrated.model_copy(update={"predeparture_late_entry_days": 5})
    before = await fetchval(migrated, "predeparture", "SELECT count(*) FROM orientation_sessions")
    async with client_with(five_days) as client:
        inside = await client.post(
            "/v1/sessions",
            json=await session_body(migrated, **held(4)),
            headers=mrc_staff(migrated),
        )
        outside = await client.post(
            "/v1/sessions",
            json=await session_body(migrated, **held(6)),
            headers=mrc_staff(migrated),
        )

    assert inside.status_code == 201, inside.text
    assert outside.status_code == 422, outside.text
    [error] = outside.json()["errors"]
    assert error["field"] == "starts_at"
    assert error["code"] == "beyond_late_entry_window"
    assert "5 days" in error["message"]
    assert "LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS" in error["message"]
    after = await fetchval(migrated, "predeparture", "SELECT count(*) FROM orientation_sessions")
    assert after == before + 1


async def test_only_a_session_entered_late_has_its_date_corrected_into_the_past(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    staff = mrc_staff(migrated)
    planned = await predeparture_client.post(
        "/v1/sessions", json=await session_body(migrated), headers=staff
    )
    late = await predeparture_client.post(
        "/v1/sessions", json=await session_body(migrated, **held(3)), headers=staff
    )
    assert (planned.status_code, late.status_code) == (201, 201)

    moved = await predeparture_client.patch(
        f"/v1/sessions/{planned.json()['id']}", json=held(2), headers=staff
    )
    corrected = await predeparture_client.patch(
        f"/v1/sessions/{late.json()['id']}", json=held(2), headers=staff
    )

    assert moved.status_code == 422
    assert [e["field"] for e in moved.json()["errors"]] == ["starts_at"]
    assert corrected.status_code == 200, corrected.text
    corrected_day = datetime.fromisoformat(corrected.json()["starts_at"]).astimezone(LAO_TIME)
    assert corrected_day.date() == today() - timedelta(days=2)


async def test_outreach_held_days_ago_is_entered_late_and_older_outreach_is_refused(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    staff = mrc_staff(migrated)
    on_the_day = await predeparture_client.post(
        "/v1/outreach", json=outreach_body(held_on=today().isoformat()), headers=staff
    )
    from_paper = await predeparture_client.post(
        "/v1/outreach",
        json=outreach_body(held_on=(today() - timedelta(days=12)).isoformat()),
        headers=staff,
    )
    too_old = await predeparture_client.post(
        "/v1/outreach",
        json=outreach_body(held_on=(today() - timedelta(days=31)).isoformat()),
        headers=staff,
    )

    assert on_the_day.status_code == 201, on_the_day.text
    assert on_the_day.json()["entered_late"] is False
    assert from_paper.status_code == 201, from_paper.text
    assert from_paper.json()["entered_late"] is True
    assert from_paper.json()["recorded_by"] == "mrc-sv-1"
    read = await predeparture_client.get(f"/v1/outreach/{from_paper.json()['id']}", headers=staff)
    assert read.json()["entered_late"] is True
    [entry] = await audited(migrated, from_paper.json()["id"])
    assert (entry["action"], entry["office_code"]) == ("outreach_entered_late", "MRC-SV")
    assert await audited(migrated, on_the_day.json()["id"]) == []
    assert too_old.status_code == 422
    [error] = too_old.json()["errors"]
    assert (error["field"], error["code"]) == ("held_on", "beyond_late_entry_window")
    assert "30 days" in error["message"]


def test_the_window_is_a_setting_of_thirty_days_by_default() -> None:
    assert Settings().predeparture_late_entry_days == 30
    assert Settings(predeparture_late_entry_days=7).predeparture_late_entry_days == 7
