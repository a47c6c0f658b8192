"""Predeparture's learners, built only from registry's events: what is kept of a person,
updates in order, merges that move a person's orientation to the surviving record, erasure
that leaves nothing about them, and who is waiting for orientation.

Events are published with a real producer and applied by predeparture's consumer running as
its process would; each step waits until the consumer recorded the event in its inbox.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from services.predeparture.app import SPEC
from shared import clock
from shared.db import create_engine, session_factory
from shared.events.envelope import envelope_for
from shared.events.matching import ReferralStatusChanged
from shared.events.registry import (
    MigrationStatusChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonRegisteredV2,
    PersonServedAt,
    PersonUpdated,
    PersonUpdatedV2,
)
from shared.work import Resources, Work
from tests.predeparture.conftest import (
    analyst,
    esc_officer,
    learner,
    migration,
    person_fields,
    send,
    served_at,
)
from tests.predeparture.test_enrolment import (  # noqa: F401 (empty_calendar: a fixture)
    cancel,
    completed,
    empty_calendar,
    enrolled,
    enrolments_of,
    in_days,
    offer,
    person_events,
    roster,
)
from tests.predeparture.test_sessions import curriculum, new_session
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from aiokafka import AIOKafkaProducer
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.events import Event
    from shared.settings import Settings

# What predeparture's consumer runs for each event it follows: the learners read model's
# handlers combined (in app.py) with the reactions of sessions, attendance and completions to
# a person's merge or erasure.
HANDLERS = SPEC.consumers[0].handlers

pytestmark = pytest.mark.usefixtures("predeparture_consumer")


async def row(settings: Settings, person_id: uuid.UUID) -> dict[str, Any] | None:
    found = await fetch(
        settings, "predeparture", "SELECT * FROM learners WHERE person_id = $1", person_id
    )
    return dict(found[0]) if found else None


def updated(fields: dict[str, Any], version: int, **changes: Any) -> PersonUpdated:
    record = {k: v for k, v in fields.items() if k not in ("registered_by", "registered_at")}
    return PersonUpdated(
        **(record | changes),
        changed_fields=sorted(changes),
        record_version=version,
        updated_by="mrc-sv-1",
        updated_at=datetime.now(UTC),
    )


def merged(duplicate: uuid.UUID, survivor: uuid.UUID) -> PersonMerged:
    return PersonMerged(
        person_id=duplicate,
        survivor_id=survivor,
        merged_by="mrc-sv-1",
        merged_at=datetime.now(UTC),
    )


def erased(person_id: uuid.UUID) -> PersonErased:
    return PersonErased(person_id=person_id, erased_by="mrc-sv-1", erased_at=datetime.now(UTC))


# -- what is kept ----------------------------------------------------------------------------


async def test_a_registered_person_is_kept_with_names_in_both_scripts_and_never_contacts(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(
        given_name_en="Bounmy",
        family_name_en="Sisouvanh",
        phone="+8562055512345",
        email="bounmy@example.la",
        ethnicity="khmu",
        village="Ban Nongbua",
        sex="female",
        province_code="LA-KH",
    )
    await send(producer, migrated, PersonRegistered(**fields))

    stored = await row(migrated, fields["person_id"])

    assert stored is not None
    assert stored["initials"] == "B. S."
    assert (stored["reference"], stored["sex"], stored["date_of_birth"]) == (
        fields["reference"],
        "female",
        fields["date_of_birth"],
    )
    assert (stored["province_code"], stored["office_code"]) == ("LA-KH", "MRC-SV")
    assert (stored["record_status"], stored["record_version"]) == ("active", 1)
    # The names print on the person's certificate and on the roster they sign.
    assert (stored["given_name_lo"], stored["family_name_lo"]) == ("ບຸນມີ", "ສີສຸວັນ")
    assert (stored["given_name_en"], stored["family_name_en"]) == ("Bounmy", "Sisouvanh")
    assert stored["serving_offices"] == []
    kept = " ".join(str(v) for v in stored.values())
    for secret in ("+8562055512345", "bounmy@", "khmu", "Nongbua"):
        assert secret not in kept


async def test_a_new_name_from_registry_replaces_the_kept_one(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(given_name_en="Bounmy", family_name_lo="ສີສຸວັນ")
    await send(producer, migrated, PersonRegistered(**fields))

    await send(producer, migrated, updated(fields, 2, family_name_en="Keo", family_name_lo="ແກ້ວ"))

    stored = await row(migrated, fields["person_id"])
    assert stored is not None
    assert (stored["family_name_en"], stored["family_name_lo"]) == ("Keo", "ແກ້ວ")
    assert stored["initials"] == "B. K."


async def test_offices_serving_a_person_are_kept_once_and_follow_a_merge(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    duplicate, survivor = await learner(producer, migrated), await learner(producer, migrated)

    await served_at(producer, migrated, duplicate, "MRC-CH", "LA-CH")
    await served_at(producer, migrated, duplicate, "MRC-CH", "LA-CH", basis="enrolment")
    await served_at(producer, migrated, survivor, "ESC-VT", "LA-VT")
    await send(producer, migrated, merged(duplicate, survivor))

    stored = await row(migrated, survivor)
    assert stored is not None
    assert stored["serving_offices"] == ["ESC-VT", "MRC-CH"]
    # A link recorded for the retired record reaches the survivor.
    await served_at(producer, migrated, duplicate, "MRC-BK", "LA-BK")
    stored = await row(migrated, survivor)
    assert stored is not None
    assert stored["serving_offices"] == ["ESC-VT", "MRC-CH", "MRC-BK"]


async def test_initials_come_from_the_lao_names_when_there_are_no_latin_ones(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await learner(
        producer,
        migrated,
        given_name_en=None,
        family_name_en=None,
        given_name_lo="ບຸນມີ",
        family_name_lo="ແກ້ວ",
    )

    stored = await row(migrated, person)

    assert stored is not None
    assert stored["initials"] == "ບ. ກ."


async def test_updates_apply_in_version_order_and_an_older_one_replayed_is_ignored(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields()
    await send(producer, migrated, PersonRegistered(**fields))

    await send(producer, migrated, updated(fields, 3, province_code="LA-CH", office_code="MRC-CH"))
    await send(producer, migrated, updated(fields, 2, province_code="LA-BK"))

    stored = await row(migrated, fields["person_id"])
    assert stored is not None
    assert (stored["province_code"], stored["office_code"], stored["record_version"]) == (
        "LA-CH",
        "MRC-CH",
        3,
    )


async def test_the_migration_status_and_destination_are_kept(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await learner(producer, migrated)

    await send(producer, migrated, migration(person, "ready", "KR"))

    stored = await row(migrated, person)
    assert stored is not None
    assert (stored["migration_status"], stored["destination_country"]) == ("ready", "KR")


async def test_events_about_people_predeparture_never_heard_of_change_nothing(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    stranger, survivor = uuid.uuid4(), await learner(producer, migrated)
    enrolments = "SELECT count(*) FROM enrolments"
    before = await fetchval(migrated, "predeparture", enrolments)

    await send(producer, migrated, migration(stranger, "prospective"))
    await send(producer, migrated, merged(stranger, survivor))
    await send(producer, migrated, erased(stranger))

    assert await row(migrated, stranger) is None
    assert await fetchval(migrated, "predeparture", enrolments) == before
    survivor_row = await row(migrated, survivor)
    assert survivor_row is not None
    assert survivor_row["record_status"] == "active"


# -- merges ----------------------------------------------------------------------------------


async def attend(settings: Settings, session_id: str, person_id: uuid.UUID, module: str) -> None:
    await fetchval(
        settings,
        "predeparture",
        "INSERT INTO attendance (session_id, person_id, module_code, status, note,"
        " recorded_by, recorded_at) VALUES ($1, $2, $3, 'present', 'came late', 'mrc-sv-1',"
        " now()) RETURNING 1",
        uuid.UUID(session_id),
        person_id,
        module,
    )


OWNED = {
    "attendance": "SELECT count(*) FROM attendance WHERE person_id = $1",
    "completions": "SELECT count(*) FROM completions WHERE person_id = $1",
}


async def owned(settings: Settings, table: str, person_id: uuid.UUID) -> int:
    return int(await fetchval(settings, "predeparture", OWNED[table], person_id))


async def test_a_merge_gives_the_survivor_the_duplicate_s_places_attendance_and_completions(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    duplicate, survivor = await learner(producer, migrated), await learner(producer, migrated)
    await send(producer, migrated, migration(duplicate, "ready", "TH"))
    only_theirs = await new_session(predeparture_client, migrated)
    await enrolled(predeparture_client, migrated, only_theirs, duplicate)
    _, modules = await curriculum(migrated)
    await attend(migrated, only_theirs["id"], duplicate, modules[0])
    await completed(migrated, duplicate, "TH", valid_days=200)

    await send(producer, migrated, merged(duplicate, survivor))

    stored = await row(migrated, duplicate)
    assert stored is not None
    assert (stored["record_status"], stored["merged_into"]) == ("merged", survivor)
    assert [e["session_id"] for e in await enrolments_of(migrated, survivor)] == [
        uuid.UUID(only_theirs["id"])
    ]
    assert (
        await owned(migrated, "attendance", survivor),
        await owned(migrated, "completions", survivor),
    ) == (1, 1)
    assert await enrolments_of(migrated, duplicate) == []
    survivor_row = await row(migrated, survivor)
    # Registry moved the migration record to the survivor without announcing it again.
    assert survivor_row is not None
    assert (survivor_row["migration_status"], survivor_row["destination_country"]) == (
        "ready",
        "TH",
    )


async def test_where_both_records_hold_a_place_in_a_session_the_duplicate_s_is_cancelled(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    duplicate, survivor = await learner(producer, migrated), await learner(producer, migrated)
    waiting = await learner(producer, migrated)
    both = await new_session(predeparture_client, migrated, capacity=2)
    await enrolled(predeparture_client, migrated, both, survivor)
    await enrolled(predeparture_client, migrated, both, duplicate)
    await enrolled(predeparture_client, migrated, both, waiting)

    await send(producer, migrated, merged(duplicate, survivor))

    listed = await roster(predeparture_client, migrated, both)
    assert [e["person_id"] for e in listed["enrolled"]] == [str(survivor), str(waiting)]
    assert listed["waitlisted"] == []
    dropped = (await person_events(migrated, duplicate))[-1]
    assert (dropped["status"], dropped["previous_status"]) == ("cancelled", "enrolled")
    moved_up = (await person_events(migrated, waiting))[-1]
    assert (moved_up["status"], moved_up["previous_status"]) == ("enrolled", "waitlisted")


async def test_a_duplicate_s_place_is_kept_over_the_survivor_s_turn_on_the_waiting_list(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    duplicate, survivor = await learner(producer, migrated), await learner(producer, migrated)
    full = await new_session(predeparture_client, migrated, capacity=1)
    await enrolled(predeparture_client, migrated, full, duplicate)
    await enrolled(predeparture_client, migrated, full, survivor)

    await send(producer, migrated, merged(duplicate, survivor))

    listed = await roster(predeparture_client, migrated, full)
    assert [e["person_id"] for e in listed["enrolled"]] == [str(survivor)]
    assert listed["waitlisted"] == []


async def test_an_update_of_a_merged_away_record_changes_nothing(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields()
    await send(producer, migrated, PersonRegistered(**fields))
    survivor = await learner(producer, migrated)
    await send(producer, migrated, merged(fields["person_id"], survivor))

    await send(producer, migrated, updated(fields, 5, province_code="LA-BK"))

    stored = await row(migrated, fields["person_id"])
    assert stored is not None
    assert (stored["province_code"], stored["record_version"]) == ("LA-SV", 1)


# -- erasure ---------------------------------------------------------------------------------


async def test_erasure_leaves_only_an_id_that_leads_nowhere(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(
        given_name_en="Phonsavanh",
        family_name_en="Silavong",
        # Lao names no other test gives anyone: the scan below looks through every table.
        given_name_lo="ພອນສະຫວັນ",
        family_name_lo="ສີລາວົງ",
    )
    person = fields["person_id"]
    await send(producer, migrated, PersonRegistered(**fields))
    orientation = await new_session(predeparture_client, migrated)
    place = await enrolled(predeparture_client, migrated, orientation, person)
    reason = "Phonsavanh is pregnant and cannot travel before March"
    await cancel(predeparture_client, migrated, orientation, place["id"], reason)
    _, modules = await curriculum(migrated)
    await attend(migrated, orientation["id"], person, modules[0])
    await completed(migrated, person, "TH", valid_days=100)
    await fetchval(
        migrated,
        "predeparture",
        "UPDATE completions SET status = 'withdrawn', withdrawn_reason = $2 WHERE person_id = $1"
        " RETURNING 1",
        person,
        "Phonsavanh Silavong left the class on day one",
    )

    await send(producer, migrated, erased(person))

    assert await row(migrated, person) is None
    text_about_them = await fetch(
        migrated,
        "predeparture",
        "SELECT 'learners' AS t, l::text AS v FROM learners l"
        " UNION ALL SELECT 'enrolments', e::text FROM enrolments e"
        " UNION ALL SELECT 'attendance', a::text FROM attendance a"
        " UNION ALL SELECT 'completions', c::text FROM completions c"
        " UNION ALL SELECT 'outbox', convert_from(o.value, 'UTF8') FROM outbox o"
        " UNION ALL SELECT 'idempotency', k.body::text FROM idempotency_keys k"
        " UNION ALL SELECT 'audit', a::text FROM predeparture_audit_log a",
    )
    for found in text_about_them:
        for trace in (
            "Phonsavanh",
            "Silavong",
            fields["given_name_lo"],
            fields["family_name_lo"],
            fields["reference"],
            "pregnant",
        ):
            assert trace not in found["v"], found["t"]
    [kept] = await enrolments_of(migrated, person)
    assert (kept["status"], kept["reason"]) == ("cancelled", None)
    assert await owned(migrated, "completions", person) == 1
    assert await outbox_types(migrated, str(person)) == []


async def outbox_types(settings: Settings, key: str) -> list[str]:
    rows = await fetch(
        settings, "predeparture", "SELECT type FROM outbox WHERE key = $1 ORDER BY id", key
    )
    return [r["type"] for r in rows]


async def test_erasing_the_survivor_also_removes_the_records_merged_into_it(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    duplicate, survivor = await learner(producer, migrated), await learner(producer, migrated)
    await send(producer, migrated, merged(duplicate, survivor))

    await send(producer, migrated, erased(survivor))

    assert (await row(migrated, duplicate), await row(migrated, survivor)) == (None, None)


# -- applying an event again -----------------------------------------------------------------


@pytest.fixture(scope="module")
async def predeparture_sessions(
    migrated: Settings,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "predeparture")
    yield session_factory(engine)
    await engine.dispose()


async def _state(settings: Settings, *people: uuid.UUID) -> list[Any]:
    snapshot: list[Any] = []
    for person_id in people:
        stored = await row(settings, person_id)
        if stored is not None:
            stored.pop("updated_at")
        places = [
            (e["session_id"], e["status"], e["automatic"], e["reason"])
            for e in await enrolments_of(settings, person_id)
        ]
        snapshot += [stored, places, await outbox_types(settings, str(person_id))]
    return snapshot


async def test_applying_each_event_again_even_past_the_inbox_leaves_the_same_state(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    predeparture_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await new_session(predeparture_client, migrated, **in_days(3))
    fields = person_fields()
    person_id, survivor = fields["person_id"], await learner(producer, migrated)
    payloads: list[Event] = [
        PersonRegistered(**fields),
        updated(fields, 2, province_code="LA-KH"),
        migration(person_id, "prospective", "TH"),
        offer(person_id),
        migration(person_id, "ready", "TH"),
        merged(person_id, survivor),
        erased(person_id),
    ]

    for payload in payloads:
        envelope = envelope_for(payload)
        handler = HANDLERS[envelope.type]
        states = []
        for _ in range(2):
            async with predeparture_sessions() as session, session.begin():
                work = Work(session, migrated, predeparture_sessions, clock.today(), Resources())
                await handler(work, envelope, payload)
            states.append(await _state(migrated, person_id, survivor))
        assert states[0] == states[1], type(payload).__name__

    assert await row(migrated, person_id) is None
    assert len(await enrolments_of(migrated, survivor)) == 1


def test_every_registry_and_matching_event_predeparture_follows_has_a_handler() -> None:
    followed: list[type[Event]] = [
        PersonRegistered,
        PersonUpdated,
        # Sealed since v2, opened for the v1 handlers (shared/sealing_consumer.py).
        PersonRegisteredV2,
        PersonUpdatedV2,
        MigrationStatusChanged,
        PersonServedAt,
        PersonMerged,
        PersonErased,
        ReferralStatusChanged,
    ]
    assert {e.event_type() for e in followed} == set(HANDLERS)


# -- reading ---------------------------------------------------------------------------------


async def test_staff_read_a_learner_with_their_places_and_whether_they_await_orientation(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await learner(producer, migrated, province_code="LA-XA")
    await send(producer, migrated, migration(person, "ready", "JP"))
    # From Xayaboury, the person came to the Luang Prabang centre, which enrols them.
    await served_at(producer, migrated, person, "MRC-LP", "LA-LP")
    orientation = await new_session(predeparture_client, migrated, office_code="MRC-LP")
    await enrolled(predeparture_client, migrated, orientation, person)

    read = await predeparture_client.get(
        f"/v1/learners/{person}", headers=esc_officer(migrated, "LA-XA")
    )

    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["province_code"], body["migration_status"], body["awaiting"]) == (
        "LA-XA",
        "ready",
        False,
    )
    [place] = body["enrolments"]
    assert (place["session_id"], place["status"], place["office_code"]) == (
        orientation["id"],
        "enrolled",
        "MRC-LP",
    )
    missing = await predeparture_client.get(
        f"/v1/learners/{uuid.uuid4()}", headers=analyst(migrated)
    )
    assert missing.status_code == 404


@pytest.mark.usefixtures("empty_calendar")
async def test_the_awaiting_list_holds_prospective_migrants_without_a_place_or_orientation(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    # No session is planned, so registry's news invites no one; Attapeu, where no one else in
    # these tests lives.
    waiting, oriented, placed, not_going = [
        await learner(producer, migrated, province_code="LA-AT") for _ in range(4)
    ]
    await completed(migrated, oriented, "TH", valid_days=30)
    for person in (waiting, oriented, placed):
        await send(producer, migrated, migration(person, "prospective", "TH"))
    await send(producer, migrated, migration(not_going, "cancelled", "TH"))
    await served_at(producer, migrated, placed, "MRC-CH", "LA-CH")
    orientation = await new_session(predeparture_client, migrated, office_code="MRC-CH")
    await enrolled(predeparture_client, migrated, orientation, placed)
    params: dict[str, Any] = {"awaiting": "true", "province_code": "LA-AT", "limit": 1}

    first = await predeparture_client.get("/v1/learners", params=params, headers=analyst(migrated))
    assert first.status_code == 200, first.text
    listed = [p["person_id"] for p in first.json()["items"]]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = await predeparture_client.get(
            "/v1/learners", params=params | {"cursor": cursor}, headers=analyst(migrated)
        )
        listed += [p["person_id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]

    assert str(waiting) in listed
    for not_waiting in (oriented, placed, not_going):
        assert str(not_waiting) not in listed
    everyone = await predeparture_client.get(
        "/v1/learners",
        params={"province_code": "LA-AT", "limit": 200},
        headers=esc_officer(migrated, "LA-AT"),
    )
    assert {str(p) for p in (waiting, oriented, placed, not_going)} <= {
        p["person_id"] for p in everyone.json()["items"]
    }


async def test_agencies_and_partners_cannot_read_learners(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    from tests.predeparture.test_sessions import agency, partner

    person = await learner(producer, migrated)
    for outsider in (agency(migrated), partner(migrated)):
        listed = await predeparture_client.get("/v1/learners", headers=outsider)
        one = await predeparture_client.get(f"/v1/learners/{person}", headers=outsider)
        assert (listed.status_code, one.status_code) == (403, 403)
    bad = await predeparture_client.get(
        "/v1/learners", params={"province_code": "LA-ZZ"}, headers=analyst(migrated)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "province_code"
