"""Which events message whom, in which language and on which channels, exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.events.envelope import envelope_for
from shared.events.matching import PlacementMade, ReferralStatusChanged, VacancyStatusChanged
from shared.events.predeparture import (
    EnrolmentChanged,
    OrientationCompleted,
    OrientationRequired,
    SessionStatusChanged,
)
from shared.events.registry import (
    ConsentChanged,
    MigrationReturnDue,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)
from tests.events import publish
from tests.notify.conftest import (
    counter_consents,
    esc_staff,
    person_fields,
    registered,
    send,
)
from tests.support import applied, bearer, fetch, wait_until

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.events import Event
    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("notify_consumer")

NOW = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)  # 08:30 in Vientiane


async def messages(settings: Settings, person_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "notify",
        "SELECT template_key, channel, language, recipient, subject, body, status, event_id"
        " FROM messages WHERE person_id = $1 ORDER BY created_at, channel",
        person_id,
    )
    return [dict(r) for r in rows]


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["template_key"], r["channel"]) for r in rows]


def vacancy(vacancy_id: uuid.UUID, title: str = "Sewing machine operator") -> VacancyStatusChanged:
    return VacancyStatusChanged(
        vacancy_id=vacancy_id,
        reference="V-2026-0077",
        status="published",
        previous_status="draft",
        title=title,
        isco08="8153",
        overseas=False,
        province_code="LA-VT",
        positions=3,
        open_positions=3,
        changed_by="esc-vt-1",
        changed_at=NOW,
    )


def referral(person_id: uuid.UUID, vacancy_id: uuid.UUID, status: str) -> ReferralStatusChanged:
    return ReferralStatusChanged(
        referral_id=uuid.uuid5(person_id, str(vacancy_id)),
        person_id=person_id,
        vacancy_id=vacancy_id,
        status=status,
        changed_by="esc-vt-1",
        changed_at=NOW,
    )


def enrolment(
    person_id: uuid.UUID, session_id: uuid.UUID, status: str, previous: str | None = None
) -> EnrolmentChanged:
    return EnrolmentChanged(
        enrolment_id=uuid.uuid5(person_id, str(session_id)),
        session_id=session_id,
        person_id=person_id,
        status=status,
        previous_status=previous,
        office_code="MRC-SV",
        starts_at=NOW,
        venue="MRC Savannakhet",
        language="lo",
        changed_by="mrc-sv-1",
        changed_at=NOW,
    )


async def test_every_notable_event_messages_the_person_on_each_channel_in_their_language(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated, preferred_language="en")
    job = uuid.uuid4()
    session_id = uuid.uuid4()
    await send(producer, migrated, vacancy(job))
    events: list[Event] = [
        referral(person, job, "referred"),
        referral(person, job, "interviewed"),
        referral(person, job, "offered"),
        PlacementMade(
            placement_id=uuid.uuid4(),
            referral_id=uuid.uuid5(person, str(job)),
            person_id=person,
            vacancy_id=job,
            isco08="8153",
            province_code="LA-VT",
            starts_on=date(2027, 1, 4),
            placed_by="esc-vt-1",
            placed_at=NOW,
        ),
        OrientationRequired(
            person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
        ),
        enrolment(person, session_id, "waitlisted"),
        enrolment(person, session_id, "enrolled", "waitlisted"),
        OrientationCompleted(
            person_id=person,
            certificate_number="PDO-SV-2026-000123",
            destination_country="TH",
            completed_on=date(2026, 12, 9),
            valid_until=date(2027, 12, 9),
            recorded_at=NOW,
        ),
        MigrationReturnDue(
            person_id=person,
            migration_id=uuid.uuid4(),
            destination_country="TH",
            permit_expires_on=date(2029, 1, 4),
            return_due_on=date(2028, 12, 5),
            days_left=60,
        ),
    ]
    for event in events:
        await send(producer, migrated, event)

    rows = await messages(migrated, person)
    expected = [
        "welcome",
        "referral",
        "interview",
        "offer",
        "placement_confirmed",
        "orientation_required",
        "orientation_waitlisted",
        "orientation_invitation",
        "certificate_issued",
        "return_reminder",
    ]
    assert keys(rows) == [(key, channel) for key in expected for channel in ("email", "sms")]
    assert {r["language"] for r in rows} == {"en"}
    by_key = {(r["template_key"], r["channel"]): r for r in rows}
    assert "Sewing machine operator" in by_key["referral", "sms"]["body"]
    assert "V-2026-0077" in by_key["referral", "sms"]["body"]
    assert "starting 04/01/2027" in by_key["placement_confirmed", "sms"]["body"]
    assert "Thailand" in by_key["orientation_required", "sms"]["body"]
    assert "08/12/2026 08:30" in by_key["orientation_invitation", "sms"]["body"]
    assert "PDO-SV-2026-000123" in by_key["certificate_issued", "email"]["body"]
    assert by_key["certificate_issued", "email"]["subject"] == "Your orientation certificate"
    assert "05/12/2028" in by_key["return_reminder", "sms"]["body"]
    assert by_key["welcome", "sms"]["recipient"].startswith("+85620")
    assert by_key["welcome", "email"]["recipient"].endswith("@example.la")


async def test_lao_is_the_default_and_names_are_written_in_lao_script(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated, email=None)
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="KR", reason="offered", recorded_at=NOW
        ),
    )
    rows = await messages(migrated, person)
    assert keys(rows) == [("welcome", "sms"), ("orientation_required", "sms")]
    assert {r["language"] for r in rows} == {"lo"}
    assert "ສະບາຍດີ ສົມສັກ" in rows[0]["body"]
    assert "ເກົາຫຼີໃຕ້" in rows[1]["body"]  # South Korea, in Lao


async def test_a_repeated_event_queues_one_message_per_channel(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated)
    payload = OrientationRequired(
        person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
    )
    envelope = envelope_for(payload)
    for _ in range(3):
        await publish(producer, envelope, payload.topic)
    await wait_until(lambda: applied(migrated, "notify", envelope.id), timeout_s=30)
    later = await send(producer, migrated, vacancy(uuid.uuid4()))  # all three are behind it
    assert later is not None
    rows = [r for r in await messages(migrated, person) if r["event_id"] == envelope.id]
    assert keys(rows) == [("orientation_required", "email"), ("orientation_required", "sms")]


async def test_events_that_tell_nobody_anything_queue_nothing(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated)
    job = uuid.uuid4()
    entered_from_paper = enrolment(person, uuid.uuid4(), "enrolled").model_copy(
        update={"entered_late": True}
    )
    for event in (
        referral(person, job, "rejected"),
        referral(person, job, "withdrawn"),
        enrolment(person, uuid.uuid4(), "enrolled", "enrolled"),
        entered_from_paper,  # the session was held already: a record, not an invitation
    ):
        await send(producer, migrated, event)
    assert keys(await messages(migrated, person)) == [("welcome", "email"), ("welcome", "sms")]


async def test_a_moved_session_tells_everyone_enrolled_and_a_cancelled_place_tells_its_holder(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    session_id = uuid.uuid4()
    staying, leaving, waiting = [await registered(producer, migrated, email=None) for _ in "abc"]
    await send(producer, migrated, enrolment(staying, session_id, "enrolled"))
    await send(producer, migrated, enrolment(leaving, session_id, "enrolled"))
    await send(producer, migrated, enrolment(waiting, session_id, "waitlisted"))
    await send(producer, migrated, enrolment(leaving, session_id, "cancelled", "enrolled"))
    moved = NOW + timedelta(days=2)
    await send(
        producer,
        migrated,
        SessionStatusChanged(
            session_id=session_id,
            office_code="MRC-SV",
            province_code="LA-SV",
            status="scheduled",
            previous_status="scheduled",
            starts_at=moved,
            ends_at=moved + timedelta(hours=6),
            venue="Kaysone Phomvihane district hall",
            language="lo",
            capacity=30,
            changed_by="mrc-sv-1",
            changed_at=NOW,
        ),
    )
    assert [k for k, _ in keys(await messages(migrated, staying))] == [
        "welcome",
        "orientation_invitation",
        "session_changed",
    ]
    changed = (await messages(migrated, staying))[-1]["body"]
    assert "10/12/2026 08:30" in changed
    assert "Kaysone Phomvihane district hall" in changed
    assert [k for k, _ in keys(await messages(migrated, leaving))] == [
        "welcome",
        "orientation_invitation",
        "orientation_cancelled",
    ]
    assert [k for k, _ in keys(await messages(migrated, waiting))] == [
        "welcome",
        "orientation_waitlisted",
    ]


def consent(person_id: uuid.UUID, purpose: str, status: str, at: datetime = NOW) -> ConsentChanged:
    return ConsentChanged(
        person_id=person_id,
        consent_id=uuid.uuid5(person_id, purpose),
        purpose=purpose,
        status=status,
        method="signed",
        recorded_by="esc-vt-1",
        recorded_at=at,
    )


async def test_withdrawing_sms_consent_cancels_waiting_sms_at_once_and_stops_new_ones(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated)
    await send(producer, migrated, consent(person, "contact_sms", "withdrawn"))
    rows = await messages(migrated, person)
    assert {(r["channel"], r["status"]) for r in rows} == {
        ("sms", "cancelled"),
        ("email", "queued"),
    }
    history = await fetch(
        migrated,
        "notify",
        "SELECT s.status, s.detail FROM message_statuses s JOIN messages m ON m.id = s.message_id"
        " WHERE m.person_id = $1 AND m.channel = 'sms' ORDER BY s.id",
        person,
    )
    assert [(h["status"], h["detail"]) for h in history] == [
        ("queued", "welcome"),
        ("cancelled", "consent withdrawn"),
    ]

    await send(producer, migrated, enrolment(person, uuid.uuid4(), "enrolled"))
    assert keys(await messages(migrated, person))[-1:] == [("orientation_invitation", "email")]

    await send(producer, migrated, consent(person, "contact_sms", "given"))
    await send(producer, migrated, enrolment(person, uuid.uuid4(), "enrolled"))
    assert keys(await messages(migrated, person))[-2:] == [
        ("orientation_invitation", "email"),
        ("orientation_invitation", "sms"),
    ]


async def test_a_changed_phone_and_language_are_used_for_the_next_message(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields()
    person = await registered(producer, migrated, **fields)
    updated = fields | {
        "phone": "+66812345678",
        "preferred_language": "en",
        "changed_fields": ["phone", "preferred_language"],
        "record_version": 2,
        "updated_by": "esc-vt-1",
        "updated_at": NOW,
    }
    for name in ("registered_by", "registered_at"):
        updated.pop(name)
    await send(producer, migrated, PersonUpdated(**updated))
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
        ),
    )
    sms = [r for r in await messages(migrated, person) if r["channel"] == "sms"]
    assert (sms[-1]["recipient"], sms[-1]["language"]) == ("+66812345678", "en")


async def test_a_merged_duplicate_is_never_messaged_and_events_about_it_reach_the_survivor(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    survivor = await registered(producer, migrated, email=None)
    duplicate = await registered(producer, migrated, email=None)
    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate, survivor_id=survivor, merged_by="esc-vt-1", merged_at=NOW
        ),
    )
    assert {r["status"] for r in await messages(migrated, duplicate)} == {"cancelled"}
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=duplicate, destination_country="TH", reason="offered", recorded_at=NOW
        ),
    )
    assert keys(await messages(migrated, survivor))[-1] == ("orientation_required", "sms")
    assert len(await messages(migrated, duplicate)) == 1


async def test_erasure_blanks_what_messages_said_and_nothing_more_is_sent(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated)
    await send(
        producer, migrated, PersonErased(person_id=person, erased_by="esc-vt-1", erased_at=NOW)
    )
    rows = await messages(migrated, person)
    assert {(r["recipient"], r["body"], r["subject"], r["status"]) for r in rows} == {
        ("", "", None, "cancelled")
    }
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
        ),
    )
    assert len(await messages(migrated, person)) == 2


async def test_staff_read_the_messages_of_their_province_only(
    producer: AIOKafkaProducer, migrated: Settings, notify_client: httpx.AsyncClient
) -> None:
    person = await registered(producer, migrated)
    mine = await notify_client.get(
        "/v1/messages", params={"person_id": str(person)}, headers=esc_staff(migrated)
    )
    assert mine.status_code == 200
    assert len(mine.json()["items"]) == 2
    theirs = await notify_client.get(
        "/v1/messages", params={"person_id": str(person)}, headers=esc_staff(migrated, "LA-SV")
    )
    assert theirs.status_code == 200
    assert theirs.json()["items"] == []


# --- consent before the first message (issue 14, point 6) --------------------------------------


async def test_nothing_is_sent_on_a_channel_the_person_did_not_consent_to(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    unasked = await registered(producer, migrated, consents=[])
    email_only = await registered(
        producer,
        migrated,
        consents=[
            *counter_consents("contact_sms", status="refused"),
            *counter_consents("contact_email"),
        ],
    )
    for person in (unasked, email_only):
        await send(
            producer,
            migrated,
            OrientationRequired(
                person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
            ),
        )
    assert await messages(migrated, unasked) == []
    assert keys(await messages(migrated, email_only)) == [
        ("welcome", "email"),
        ("orientation_required", "email"),
    ]


async def test_the_welcome_is_decided_with_the_consents_given_at_the_counter(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """The registration carries the answers: the welcome goes in the registration's own
    transaction, before any ConsentChanged arrives."""
    fields = person_fields()
    await send(producer, migrated, PersonRegistered(**fields))
    assert keys(await messages(migrated, fields["person_id"])) == [
        ("welcome", "email"),
        ("welcome", "sms"),
    ]


async def test_a_channel_consented_to_soon_after_registering_gets_the_welcome_once(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    at = datetime.now(UTC)
    person = await registered(producer, migrated, consents=[], registered_at=at)
    assert await messages(migrated, person) == []
    # The officer records the SMS consent an hour later: the welcome goes then, on SMS only.
    await send(producer, migrated, consent(person, "contact_sms", "given", at + timedelta(hours=1)))
    assert keys(await messages(migrated, person)) == [("welcome", "sms")]
    # Given again, renewed, or the other channel later on: one welcome per channel, ever.
    await send(
        producer, migrated, consent(person, "contact_sms", "renewed", at + timedelta(days=2))
    )
    await send(
        producer, migrated, consent(person, "contact_email", "given", at + timedelta(days=3))
    )
    assert keys(await messages(migrated, person)) == [("welcome", "sms"), ("welcome", "email")]


async def test_a_consent_given_more_than_a_week_after_registering_brings_no_welcome(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    at = datetime.now(UTC) - timedelta(days=8)
    person = await registered(producer, migrated, consents=[], registered_at=at)
    await send(producer, migrated, consent(person, "contact_sms", "given", datetime.now(UTC)))
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="TH", reason="offered", recorded_at=NOW
        ),
    )
    assert keys(await messages(migrated, person)) == [("orientation_required", "sms")]


# --- the right words for who registered the person and why (issue 14, point 7) -----------------


async def test_an_mrc_migrant_gets_the_migrant_welcome_and_offers_that_name_the_mrc(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    migrant = await registered(
        producer,
        migrated,
        office_code="MRC-SV",
        province_code="LA-SV",
        jobseeker=None,
        email=None,
    )
    in_english = await registered(
        producer,
        migrated,
        office_code="MRC-SV",
        province_code="LA-SV",
        jobseeker=None,
        preferred_language="en",
        email=None,
    )
    job = uuid.uuid4()
    await send(producer, migrated, vacancy(job))
    for person in (migrant, in_english):
        await send(producer, migrated, referral(person, job, "offered"))

    welcome, offer = await messages(migrated, migrant)
    assert (welcome["template_key"], offer["template_key"]) == ("welcome_migrant", "offer")
    mrc_lo = "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງສະຫວັນນະເຂດ"
    assert mrc_lo in welcome["body"]
    assert "ອົບຮົມກ່ອນອອກເດີນທາງ" in welcome["body"]
    assert "ຜູ້ຊອກວຽກ" not in welcome["body"]  # not the jobseeker's welcome
    assert offer["body"].endswith(f"ກະລຸນາຕິດຕໍ່ {mrc_lo}.")
    assert "ສູນບໍລິການຈັດຫາງານ" not in offer["body"]

    welcome, offer = await messages(migrated, in_english)
    assert "registered with Migrant Resource Centre, Savannakhet" in welcome["body"]
    assert "pre-departure orientation" in welcome["body"]
    assert offer["body"].endswith("Please contact Migrant Resource Centre, Savannakhet.")
    assert "Employment Service Centre" not in offer["body"] + welcome["body"]
    assert "MRC-SV" not in offer["body"] + welcome["body"]


async def test_an_esc_jobseeker_gets_the_jobseeker_welcome_naming_their_centre(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await registered(producer, migrated, preferred_language="en", email=None)
    job = uuid.uuid4()
    await send(producer, migrated, vacancy(job))
    for status in ("referred", "interviewed"):
        await send(producer, migrated, referral(person, job, status))
    welcome, referred, interviewed = await messages(migrated, person)
    assert welcome["template_key"] == "welcome"
    assert (
        "registered as a jobseeker with Employment Service Centre, Vientiane Capital"
        in welcome["body"]
    )
    assert referred["body"].endswith("Questions: Employment Service Centre, Vientiane Capital.")
    assert (
        "hear the result from Employment Service Centre, Vientiane Capital." in interviewed["body"]
    )


# --- who reads a person's messages (issue 14, point 4) -----------------------------------------


def mrc_staff(
    settings: Settings, office: str = "MRC-SV", province: str = "LA-SV"
) -> dict[str, str]:
    return bearer(settings, f"{office.lower()}-1", ["mrc_staff"], office=office, province=province)


async def test_staff_of_an_office_serving_the_person_read_their_messages(
    producer: AIOKafkaProducer, migrated: Settings, notify_client: httpx.AsyncClient
) -> None:
    person = await registered(producer, migrated, email=None)  # of Vientiane Capital
    [welcome] = await messages(migrated, person)
    message_id = (
        await fetch(migrated, "notify", "SELECT id FROM messages WHERE person_id = $1", person)
    )[0]["id"]
    paths = (f"/v1/messages/{message_id}", f"/v1/messages/{message_id}/statuses")

    async def sees(headers: dict[str, str]) -> tuple[int, list[int]]:
        """How many of the person's messages the list by person shows (and the list of
        everyone's, page by page, shows the same), and what reading one answers."""
        listed = await notify_client.get(
            "/v1/messages", params={"person_id": str(person)}, headers=headers
        )
        assert listed.status_code == 200
        in_all, after = 0, None
        while True:
            page = await notify_client.get(
                "/v1/messages",
                params={"limit": 200} | ({"after": after} if after else {}),
                headers=headers,
            )
            in_all += sum(m["person_id"] == str(person) for m in page.json()["items"])
            if (after := page.json()["next_cursor"]) is None:
                break
        assert in_all == len(listed.json()["items"])
        codes = [(await notify_client.get(path, headers=headers)).status_code for path in paths]
        return len(listed.json()["items"]), codes

    assert await sees(mrc_staff(migrated)) == (0, [404, 404])
    await send(
        producer,
        migrated,
        PersonServedAt(
            person_id=person,
            office_code="MRC-SV",
            office_province_code="LA-SV",
            basis="enrolment",
            recorded_by="mrc-sv-1",
            recorded_at=NOW,
        ),
    )
    assert await sees(mrc_staff(migrated)) == (1, [200, 200])
    one = await notify_client.get(paths[0], headers=mrc_staff(migrated))
    assert one.json()["body"] == welcome["body"]
    assert one.json()["priority"] == "courtesy"
    # Another office of that province does not serve them; the person's own province does.
    assert await sees(esc_staff(migrated, "LA-SV")) == (0, [404, 404])
    assert await sees(esc_staff(migrated)) == (1, [200, 200])


async def test_the_offices_serving_a_merged_duplicate_serve_the_survivor(
    producer: AIOKafkaProducer, migrated: Settings, notify_client: httpx.AsyncClient
) -> None:
    survivor = await registered(producer, migrated, email=None)
    duplicate = await registered(producer, migrated, email=None)
    await send(
        producer,
        migrated,
        PersonServedAt(
            person_id=duplicate,
            office_code="MRC-CH",
            office_province_code="LA-CH",
            basis="visit",
            recorded_by="mrc-ch-1",
            recorded_at=NOW,
        ),
    )
    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate, survivor_id=survivor, merged_by="esc-vt-1", merged_at=NOW
        ),
    )
    listed = await notify_client.get(
        "/v1/messages",
        params={"person_id": str(survivor)},
        headers=mrc_staff(migrated, "MRC-CH", "LA-CH"),
    )
    assert [m["template_key"] for m in listed.json()["items"]] == ["welcome"]


async def test_a_bad_cursor_and_a_bad_limit_are_named_in_one_answer(
    migrated: Settings, notify_client: httpx.AsyncClient
) -> None:
    answer = await notify_client.get(
        "/v1/messages", params={"after": "not-a-cursor", "limit": 0}, headers=esc_staff(migrated)
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in answer.json()["errors"]} == {"after", "limit"}
