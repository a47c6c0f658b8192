"""Enrolment: places up to a session's capacity and a waiting list after it, promotion when a
place frees, every change told through events; automatic invitations of prospective migrants
to the nearest office with room; orientation required by an offer of work abroad."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared import clock
from shared.events.matching import ReferralStatusChanged
from shared.events.predeparture import OrientationRequired
from tests.predeparture.conftest import (
    analyst,
    esc_officer,
    learner,
    migration,
    mrc_staff,
    send,
    served_at,
)
from tests.predeparture.test_sessions import (
    ENROLMENT_CHANGED,
    at,
    curriculum,
    end,
    events,
    new_session,
    set_status,
)
from tests.support import clear_upcoming_sessions, fetch, fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

ORIENTATION_REQUIRED = OrientationRequired.event_type()


async def enrol(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    person_id: uuid.UUID,
    **body: Any,
) -> httpx.Response:
    office = orientation["office_code"]
    return await client.post(
        f"/v1/sessions/{orientation['id']}/enrolments",
        json={"person_id": str(person_id), **body},
        headers=mrc_staff(settings, office, office.replace("MRC-", "LA-")),
    )


async def enrolled(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    person_id: uuid.UUID,
) -> dict[str, Any]:
    response = await enrol(client, settings, orientation, person_id)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def cancel(
    client: httpx.AsyncClient,
    settings: Settings,
    orientation: dict[str, Any],
    enrolment_id: str,
    reason: str = "found work at home",
) -> httpx.Response:
    office = orientation["office_code"]
    return await client.post(
        f"/v1/sessions/{orientation['id']}/enrolments/{enrolment_id}/cancellation",
        json={"reason": reason},
        headers=mrc_staff(settings, office, office.replace("MRC-", "LA-")),
    )


async def roster(
    client: httpx.AsyncClient, settings: Settings, orientation: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/sessions/{orientation['id']}/enrolments", headers=esc_officer(settings)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def people(entries: list[dict[str, Any]]) -> list[str]:
    return [e["person_id"] for e in entries]


async def person_events(settings: Settings, person_id: uuid.UUID) -> list[dict[str, Any]]:
    return await events(settings, str(person_id), ENROLMENT_CHANGED)


async def enrolments_of(settings: Settings, person_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "predeparture",
        "SELECT e.*, s.office_code FROM enrolments e"
        " JOIN orientation_sessions s ON s.id = e.session_id"
        " WHERE e.person_id = $1 ORDER BY e.created_at",
        person_id,
    )
    return [dict(r) for r in rows]


# -- capacity and the waiting list -----------------------------------------------------------


async def test_places_are_given_up_to_capacity_and_then_the_waiting_list_fills_in_order(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=2)
    persons = [await learner(producer, migrated) for _ in range(4)]

    answers = [await enrolled(predeparture_client, migrated, orientation, p) for p in persons]

    assert [a["status"] for a in answers] == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    assert [a["waitlist_position"] for a in answers] == [None, None, 1, 2]
    assert answers[0]["automatic"] is False
    assert answers[0]["reference"].startswith("P-D")
    listed = await roster(predeparture_client, migrated, orientation)
    assert people(listed["enrolled"]) == [str(p) for p in persons[:2]]
    assert people(listed["waitlisted"]) == [str(p) for p in persons[2:]]
    read = await predeparture_client.get(
        f"/v1/sessions/{orientation['id']}", headers=analyst(migrated)
    )
    assert (read.json()["enrolled"], read.json()["waitlisted"], read.json()["places_left"]) == (
        2,
        2,
        0,
    )
    [waiting] = await person_events(migrated, persons[3])
    assert (waiting["status"], waiting.get("previous_status")) == ("waitlisted", None)
    assert (waiting["session_id"], waiting["office_code"]) == (orientation["id"], "MRC-SV")
    assert waiting["changed_by"] == "mrc-sv-1"


async def test_a_cancelled_place_goes_to_the_oldest_on_the_waiting_list_and_both_are_told(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=1)
    holder, first, second = [await learner(producer, migrated) for _ in range(3)]
    place = await enrolled(predeparture_client, migrated, orientation, holder)
    await enrolled(predeparture_client, migrated, orientation, first)
    await enrolled(predeparture_client, migrated, orientation, second)

    response = await cancel(predeparture_client, migrated, orientation, place["id"])

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["reason"]) == (
        "cancelled",
        "found work at home",
    )
    listed = await roster(predeparture_client, migrated, orientation)
    assert people(listed["enrolled"]) == [str(first)]
    assert people(listed["waitlisted"]) == [str(second)]
    assert listed["waitlisted"][0]["waitlist_position"] == 1
    gone = (await person_events(migrated, holder))[-1]
    assert (gone["status"], gone["previous_status"], gone["reason"]) == (
        "cancelled",
        "enrolled",
        "found work at home",
    )
    moved_up = (await person_events(migrated, first))[-1]
    assert (moved_up["status"], moved_up["previous_status"]) == ("enrolled", "waitlisted")
    assert len(await person_events(migrated, second)) == 1

    again = await cancel(predeparture_client, migrated, orientation, place["id"])
    assert again.status_code == 409
    assert again.json()["current_status"] == "cancelled"


async def test_leaving_the_waiting_list_moves_no_one_up(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=1)
    holder, waiting, behind = [await learner(producer, migrated) for _ in range(3)]
    await enrolled(predeparture_client, migrated, orientation, holder)
    turn = await enrolled(predeparture_client, migrated, orientation, waiting)
    await enrolled(predeparture_client, migrated, orientation, behind)

    response = await cancel(predeparture_client, migrated, orientation, turn["id"])

    assert response.status_code == 200
    listed = await roster(predeparture_client, migrated, orientation)
    assert people(listed["enrolled"]) == [str(holder)]
    assert people(listed["waitlisted"]) == [str(behind)]


async def test_concurrent_enrolments_into_the_last_place_give_it_to_exactly_one(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=3)
    for _ in range(2):
        await enrolled(
            predeparture_client, migrated, orientation, await learner(producer, migrated)
        )
    racing = [await learner(producer, migrated) for _ in range(5)]
    # Reads at once first, so that the pool holds a connection for each racer and none of
    # them finishes alone while the others are still connecting.
    await asyncio.gather(*(roster(predeparture_client, migrated, orientation) for _ in racing))

    answers = await asyncio.gather(
        *(enrol(predeparture_client, migrated, orientation, p) for p in racing)
    )

    assert [a.status_code for a in answers] == [201] * 5
    assert sorted(a.json()["status"] for a in answers) == ["enrolled"] + ["waitlisted"] * 4
    listed = await roster(predeparture_client, migrated, orientation)
    assert len(listed["enrolled"]) == 3
    assert [e["waitlist_position"] for e in listed["waitlisted"]] == [1, 2, 3, 4]


async def test_capacity_grown_moves_the_waiting_list_up(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=1)
    persons = [await learner(producer, migrated) for _ in range(3)]
    for person in persons:
        await enrolled(predeparture_client, migrated, orientation, person)

    shrunk = await predeparture_client.patch(
        f"/v1/sessions/{orientation['id']}", json={"capacity": 2}, headers=mrc_staff(migrated)
    )

    assert shrunk.status_code == 200, shrunk.text
    assert (shrunk.json()["enrolled"], shrunk.json()["waitlisted"]) == (2, 1)
    moved_up = (await person_events(migrated, persons[1]))[-1]
    assert (moved_up["status"], moved_up["previous_status"]) == ("enrolled", "waitlisted")
    below = await predeparture_client.patch(
        f"/v1/sessions/{orientation['id']}", json={"capacity": 1}, headers=mrc_staff(migrated)
    )
    assert below.status_code == 422
    assert below.json()["errors"][0]["field"] == "capacity"


async def test_one_live_enrolment_per_person_and_session(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    person = await learner(producer, migrated)
    first = await enrolled(predeparture_client, migrated, orientation, person)

    twice = await enrol(predeparture_client, migrated, orientation, person)
    assert twice.status_code == 409
    assert twice.json()["enrolment_id"] == first["id"]
    await cancel(predeparture_client, migrated, orientation, first["id"])
    back = await enrol(predeparture_client, migrated, orientation, person)

    assert back.status_code == 201
    assert back.json()["id"] != first["id"]


async def test_only_learners_are_enrolled_and_only_in_a_scheduled_session(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    stranger = uuid.uuid4()

    unknown = await enrol(predeparture_client, migrated, orientation, stranger)
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "person_id"
    assert str(stranger) in unknown.json()["detail"]
    bad_country = await enrol(
        predeparture_client,
        migrated,
        orientation,
        await learner(producer, migrated),
        destination_country="XX",
    )
    assert bad_country.status_code == 422
    assert bad_country.json()["errors"][0]["field"] == "destination_country"

    await end(migrated, orientation)
    await set_status(predeparture_client, migrated, orientation, "held")
    late = await enrol(
        predeparture_client, migrated, orientation, await learner(producer, migrated)
    )
    assert late.status_code == 409
    assert late.json()["current_status"] == "held"
    assert (
        await fetchval(
            migrated,
            "predeparture",
            "SELECT count(*) FROM enrolments WHERE session_id = $1",
            uuid.UUID(orientation["id"]),
        )
        == 0
    )


async def test_enrolling_with_an_unknown_session_or_enrolment_is_404(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    nowhere = {"id": str(uuid.uuid4()), "office_code": "MRC-SV"}

    assert (
        await enrol(predeparture_client, migrated, nowhere, await learner(producer, migrated))
    ).status_code == 404
    assert (
        await cancel(predeparture_client, migrated, orientation, str(uuid.uuid4()))
    ).status_code == 404


# -- cancellation of a session ---------------------------------------------------------------


async def test_cancelling_a_session_cancels_every_place_and_turn_and_tells_each_person(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=2)
    persons = [await learner(producer, migrated) for _ in range(3)]
    for person in persons:
        await enrolled(predeparture_client, migrated, orientation, person)

    response = await set_status(
        predeparture_client, migrated, orientation, "cancelled", "the training room flooded"
    )

    assert response.status_code == 200, response.text
    assert (response.json()["enrolled"], response.json()["waitlisted"]) == (0, 0)
    told = [(await person_events(migrated, p))[-1] for p in persons]
    assert [(e["status"], e["previous_status"]) for e in told] == [
        ("cancelled", "enrolled"),
        ("cancelled", "enrolled"),
        ("cancelled", "waitlisted"),
    ]
    assert {e["reason"] for e in told} == {"session cancelled: the training room flooded"}
    assert {e["session_id"] for e in told} == {orientation["id"]}


async def test_a_new_time_or_venue_is_told_to_everyone_holding_a_place(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=1)
    holder, waiting = await learner(producer, migrated), await learner(producer, migrated)
    await enrolled(predeparture_client, migrated, orientation, holder)
    await enrolled(predeparture_client, migrated, orientation, waiting)
    day = clock.today() + timedelta(days=12)

    response = await predeparture_client.patch(
        f"/v1/sessions/{orientation['id']}",
        json={"starts_at": at(day, 9), "ends_at": at(day, 15), "venue": "Provincial hall"},
        headers=mrc_staff(migrated),
    )

    assert response.status_code == 200, response.text
    notice = (await person_events(migrated, holder))[-1]
    assert (notice["status"], notice["previous_status"]) == ("enrolled", "enrolled")
    assert notice["reason"] == "session changed: ends_at, starts_at, venue"
    assert notice["venue"] == "Provincial hall"
    assert datetime.fromisoformat(notice["starts_at"]) == datetime.fromisoformat(at(day, 9))
    assert len(await person_events(migrated, waiting)) == 1
    # A new facilitator is nothing people need to be told about.
    await predeparture_client.patch(
        f"/v1/sessions/{orientation['id']}",
        json={"facilitator": "Mr Somsak Inthavong"},
        headers=mrc_staff(migrated),
    )
    assert len(await person_events(migrated, holder)) == 2


async def test_holding_a_session_releases_its_waiting_list(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=1)
    holder, waiting = await learner(producer, migrated), await learner(producer, migrated)
    await enrolled(predeparture_client, migrated, orientation, holder)
    await enrolled(predeparture_client, migrated, orientation, waiting)
    await end(migrated, orientation)

    await set_status(predeparture_client, migrated, orientation, "held")

    listed = await roster(predeparture_client, migrated, orientation)
    assert (people(listed["enrolled"]), listed["waitlisted"]) == ([str(holder)], [])
    released = (await person_events(migrated, waiting))[-1]
    assert (released["status"], released["previous_status"]) == ("cancelled", "waitlisted")


# -- automatic invitations -------------------------------------------------------------------


@pytest.fixture
async def empty_calendar(migrated: Settings) -> None:
    """No session to come but those the test schedules."""
    await clear_upcoming_sessions(migrated)


async def prospective(
    producer: AIOKafkaProducer, settings: Settings, province: str = "LA-KH", country: str = "TH"
) -> uuid.UUID:
    """A person of `province` whose migration record registry opened as prospective."""
    person = await learner(producer, settings, province_code=province)
    await send(producer, settings, migration(person, "prospective", country))
    return person


def in_days(days: float) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=days)
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
    }


async def test_a_prospective_migrant_is_invited_to_the_nearest_office_s_next_session(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    await new_session(predeparture_client, migrated, office_code="MRC-VT", **in_days(3))
    await new_session(predeparture_client, migrated, **in_days(0.5))  # too soon to travel
    savannakhet = await new_session(predeparture_client, migrated, **in_days(5))
    await new_session(predeparture_client, migrated, **in_days(9))

    person = await prospective(producer, migrated, "LA-KH", "TH")

    [place] = await enrolments_of(migrated, person)
    assert place["session_id"] == uuid.UUID(savannakhet["id"])
    assert (place["status"], place["automatic"], place["destination_country"]) == (
        "enrolled",
        True,
        "TH",
    )
    [invited] = await person_events(migrated, person)
    assert (invited["status"], invited["automatic"], invited["changed_by"]) == (
        "enrolled",
        True,
        "system",
    )
    assert invited["office_code"] == "MRC-SV"


async def test_a_person_is_not_invited_twice(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    await new_session(predeparture_client, migrated, **in_days(4))
    await new_session(predeparture_client, migrated, **in_days(8))
    person = await prospective(producer, migrated)

    # The same news again, and a second prospective record for another country.
    await send(producer, migrated, migration(person, "prospective", "TH"))
    await send(producer, migrated, migration(person, "prospective", "MY"))

    assert len(await enrolments_of(migrated, person)) == 1
    assert len(await person_events(migrated, person)) == 1


async def test_when_the_nearest_office_is_full_the_next_nearest_with_room_invites(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    savannakhet = await new_session(predeparture_client, migrated, capacity=1, **in_days(3))
    champasak = await new_session(predeparture_client, migrated, office_code="MRC-CH", **in_days(3))
    vientiane = await new_session(predeparture_client, migrated, office_code="MRC-VT", **in_days(6))
    await enrolled(predeparture_client, migrated, savannakhet, await learner(producer, migrated))

    person = await prospective(producer, migrated, "LA-KH")

    [place] = await enrolments_of(migrated, person)
    # From Thakhek: Savannakhet (94 km) is full; Vientiane (241 km) is nearer than Pakse.
    assert (place["session_id"], place["status"]) == (uuid.UUID(vientiane["id"]), "enrolled")
    assert champasak["id"] != vientiane["id"]


async def test_when_every_session_is_full_the_person_waits_at_the_nearest_office(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    savannakhet = await new_session(predeparture_client, migrated, capacity=1, **in_days(4))
    vientiane = await new_session(
        predeparture_client, migrated, office_code="MRC-VT", capacity=1, **in_days(2)
    )
    for orientation in (savannakhet, vientiane):
        # Someone of the office's own province takes its one place.
        local = await learner(producer, migrated, province_code=orientation["province_code"])
        await enrolled(predeparture_client, migrated, orientation, local)

    person = await prospective(producer, migrated, "LA-KH")

    [turn] = await enrolments_of(migrated, person)
    assert (turn["session_id"], turn["status"]) == (uuid.UUID(savannakhet["id"]), "waitlisted")


async def test_with_no_session_planned_the_person_is_listed_as_awaiting_orientation(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    person = await prospective(producer, migrated, "LA-SL")
    assert await enrolments_of(migrated, person) == []

    awaiting = await predeparture_client.get(
        "/v1/learners",
        params={"awaiting": "true", "province_code": "LA-SL", "limit": 200},
        headers=esc_officer(migrated, "LA-SL"),
    )
    assert awaiting.status_code == 200, awaiting.text
    assert str(person) in [p["person_id"] for p in awaiting.json()["items"]]
    read = await predeparture_client.get(f"/v1/learners/{person}", headers=analyst(migrated))
    assert (read.json()["awaiting"], read.json()["enrolments"]) == (True, [])

    # The person comes to the Champasak centre (registry links them to it); its staff plan a
    # session and enrol them: they wait no longer.
    await served_at(producer, migrated, person, "MRC-CH", "LA-CH")
    orientation = await new_session(predeparture_client, migrated, office_code="MRC-CH")
    await enrolled(predeparture_client, migrated, orientation, person)
    after = await predeparture_client.get(
        "/v1/learners",
        params={"awaiting": "true", "province_code": "LA-SL", "limit": 200},
        headers=analyst(migrated),
    )
    assert str(person) not in [p["person_id"] for p in after.json()["items"]]
    read = await predeparture_client.get(f"/v1/learners/{person}", headers=analyst(migrated))
    assert read.json()["awaiting"] is False


# -- orientation required by an offer abroad -------------------------------------------------


def offer(person_id: uuid.UUID, status: str = "offered", **fields: Any) -> ReferralStatusChanged:
    values: dict[str, Any] = {
        "referral_id": uuid.uuid4(),
        "person_id": person_id,
        "vacancy_id": uuid.uuid4(),
        "status": status,
        "previous_status": "interviewed",
        "overseas": True,
        "destination_country": "TH",
        "changed_by": "agent-1",
        "changed_at": datetime.now(UTC),
    }
    return ReferralStatusChanged(**(values | fields))


async def completed(
    settings: Settings, person_id: uuid.UUID, country: str, valid_days: int
) -> None:
    """A certificate for `country`, valid for `valid_days` more days (negative: expired), by
    the services' date (Vientiane's): the database's `current_date` is UTC's, a day behind from
    17:00 to 24:00 UTC, when such a certificate was already out of date for the service."""
    curriculum_id, _ = await curriculum(settings)
    today = clock.today()
    await fetchval(
        settings,
        "predeparture",
        "INSERT INTO completions (id, person_id, destination_country, curriculum_id,"
        " completed_on, valid_until, certificate_number, verification_hash, issued_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())"
        " RETURNING id",
        uuid.uuid4(),
        person_id,
        country,
        uuid.UUID(curriculum_id),
        today - timedelta(days=30),
        today + timedelta(days=valid_days),
        f"PDO-T-{uuid.uuid4().hex[:10]}",
        uuid.uuid4().hex + uuid.uuid4().hex,
    )


async def test_an_offer_abroad_without_valid_orientation_requires_it_and_invites_the_person(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    orientation = await new_session(predeparture_client, migrated, **in_days(3))
    person = await learner(producer, migrated, province_code="LA-SV")
    await completed(migrated, person, "TH", valid_days=-1)  # expired yesterday
    await completed(migrated, person, "MY", valid_days=100)  # another destination
    referral = offer(person)

    await send(producer, migrated, referral)

    [required] = await events(migrated, str(person), ORIENTATION_REQUIRED)
    assert (required["destination_country"], required["referral_id"]) == (
        "TH",
        str(referral.referral_id),
    )
    assert required["vacancy_id"] == str(referral.vacancy_id)
    [place] = await enrolments_of(migrated, person)
    assert (place["session_id"], place["automatic"], place["destination_country"]) == (
        uuid.UUID(orientation["id"]),
        True,
        "TH",
    )
    # The offer delivered again (or the placement that follows) asks nothing more.
    await send(producer, migrated, offer(person, referral_id=referral.referral_id))
    assert len(await events(migrated, str(person), ORIENTATION_REQUIRED)) == 1
    assert len(await enrolments_of(migrated, person)) == 1


async def test_an_offer_abroad_to_someone_oriented_for_the_destination_requires_nothing(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    await new_session(predeparture_client, migrated, **in_days(3))
    person = await learner(producer, migrated)
    await completed(migrated, person, "TH", valid_days=0)  # valid through today

    await send(producer, migrated, offer(person))

    assert await events(migrated, str(person), ORIENTATION_REQUIRED) == []
    assert await enrolments_of(migrated, person) == []


async def test_referrals_at_home_before_the_offer_or_of_unknown_people_require_nothing(
    predeparture_client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    migrated: Settings,
    empty_calendar: None,
) -> None:
    await new_session(predeparture_client, migrated, **in_days(3))
    person = await learner(producer, migrated)
    stranger = uuid.uuid4()

    await send(producer, migrated, offer(person, status="referred", previous_status=None))
    await send(producer, migrated, offer(person, overseas=False, destination_country=None))
    await send(producer, migrated, offer(stranger))

    for someone in (person, stranger):
        assert await events(migrated, str(someone), ORIENTATION_REQUIRED) == []
        assert await enrolments_of(migrated, someone) == []
