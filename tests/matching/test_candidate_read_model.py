"""Matching's candidate read model, built only from registry and predeparture events.

Events are published with a real producer and applied by matching's consumer running as its
process would; each step waits until the consumer recorded the event in its inbox.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from services.matching.app import SPEC as MATCHING
from services.matching.candidates.api import router as candidates_router
from services.matching.candidates.handlers import HANDLERS
from services.matching.ranking.keys import candidate_keys
from shared import clock
from shared.app import create_app
from shared.db import create_engine, session_factory
from shared.events.envelope import envelope_for
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.events.registry import (
    JobseekerStatusChanged,
    MigrationStatusChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)
from shared.work import Resources, Work
from tests.events import publish
from tests.matching.conftest import candidate, consent, person_fields, send, updated
from tests.support import applied, bearer, fetch, fetchval, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiokafka import AIOKafkaProducer

    from shared.events import Event
    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("matching_consumer")

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


async def row(settings: Settings, person_id: uuid.UUID) -> dict[str, Any] | None:
    found = await fetch(
        settings, "matching", "SELECT * FROM candidates WHERE person_id = $1", person_id
    )
    return dict(found[0]) if found else None


async def orientations(settings: Settings, person_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    found = await fetch(
        settings,
        "matching",
        "SELECT * FROM candidate_orientations WHERE person_id = $1",
        person_id,
    )
    return {r["destination_country"]: dict(r) for r in found}


def orientation(
    person_id: uuid.UUID,
    certificate: str,
    country: str = "TH",
    *,
    valid_until: date = date(2027, 1, 31),
    recorded_at: datetime = NOW,
) -> OrientationCompleted:
    return OrientationCompleted(
        person_id=person_id,
        certificate_number=certificate,
        destination_country=country,
        completed_on=date(2026, 1, 31),
        valid_until=valid_until,
        office_code="MRC-BK",
        recorded_at=recorded_at,
    )


def withdrawn(person_id: uuid.UUID, certificate: str, country: str = "TH") -> Event:
    return OrientationCompletionWithdrawn(
        person_id=person_id,
        certificate_number=certificate,
        destination_country=country,
        reason="attendance corrected",
        recorded_at=NOW + timedelta(hours=1),
    )


def jobseeker_status(person_id: uuid.UUID, status: str) -> JobseekerStatusChanged:
    return JobseekerStatusChanged(
        person_id=person_id,
        status=status,
        changed_by="officer-vt-1",
        changed_at=datetime.now(UTC),
    )


def migration(person_id: uuid.UUID, status: str, country: str = "TH") -> MigrationStatusChanged:
    return MigrationStatusChanged(
        person_id=person_id,
        migration_id=uuid.uuid5(person_id, "migration"),
        status=status,
        destination_country=country,
        channel="mou",
        changed_by="officer-bk-1",
        changed_at=datetime.now(UTC),
    )


def served_at(person_id: uuid.UUID, office: str, province: str) -> PersonServedAt:
    """Registry's word that `office` (of another province) now serves the person."""
    return PersonServedAt(
        person_id=person_id,
        office_code=office,
        office_province_code=province,
        basis="visit",
        recorded_by=f"officer-{office.lower()}",
        recorded_at=datetime.now(UTC),
    )


# -- registration and consent ----------------------------------------------------------------


async def test_a_registered_jobseeker_who_consents_becomes_an_eligible_candidate_with_keys(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(
        given_name_lo="ສົມໃຈ",
        family_name_lo="ແກ້ວ",
        given_name_en="Somchai",
        family_name_en="Keo",
        district="Sisattanak",
        office_code="ESC-VT",
        isced_level=3,
        skills=[" Welding ", "DRIVING", "welding"],
        languages=[
            {"code": "lo", "proficiency": "native"},
            {"code": "th", "proficiency": "basic"},
        ],
        experience=[{"isco08": "7212", "years": 2.5, "country": "TH"}],
        jobseeker={
            "status": "active",
            "desired_occupations": ["8322"],
            "preferred_provinces": ["LA-CH"],
            "willing_to_work_abroad": True,
            "abroad_countries": ["TH"],
        },
        passport_expires_on=date(2031, 5, 1),
    )
    person_id = fields["person_id"]

    await send(producer, migrated, PersonRegistered(**fields))
    before = await row(migrated, person_id)
    await send(
        producer,
        migrated,
        consent(person_id, expires_on=clock.today() + timedelta(days=365)),
    )
    after = await row(migrated, person_id)

    assert before is not None
    assert after is not None
    assert before["eligible"] is False  # registered, but no consent to be matched yet
    assert after["eligible"] is True
    assert after["consent_job_matching"] is True
    assert after["display_name"] == "Somchai Keo"
    assert after["skills"] == ["welding", "driving"]
    assert after["languages"] == ["lo", "th"]
    assert json.loads(after["experience"]) == [{"isco08": "7212", "years": 2.5}]
    assert after["jobseeker_status"] == "active"
    assert after["passport_expires_on"] == date(2031, 5, 1)
    assert after["record_version"] == 1
    assert after["match_keys"] == candidate_keys(
        experience=["7212"],
        desired=["8322"],
        province_code="LA-VT",
        preferred_provinces=["LA-CH"],
        willing_abroad=True,
        abroad_countries=["TH"],
        languages=["lo", "th"],
    )


async def test_withdrawing_consent_takes_the_person_out_of_matching_at_once(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated, consented=False)
    given = consent(person_id, expires_on=clock.today() + timedelta(days=365))
    await send(producer, migrated, given)
    eligible = (await row(migrated, person_id) or {})["eligible"]

    await send(producer, migrated, consent(person_id, "withdrawn"))
    after_withdrawal = await row(migrated, person_id)
    # The earlier decision published again (a new envelope, e.g. re-sent by hand) is older.
    await send(producer, migrated, given)
    after_replay = await row(migrated, person_id)

    assert eligible is True
    assert after_withdrawal is not None
    assert after_replay is not None
    assert after_withdrawal["eligible"] is False
    assert after_withdrawal["consent_job_matching"] is False
    assert after_withdrawal["consent_expires_on"] is None
    assert after_replay["eligible"] is False


async def test_consent_for_other_purposes_does_not_count_for_matching(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated, consented=False)
    sms = consent(person_id).model_copy(update={"purpose": "contact_sms"})

    await send(producer, migrated, sms)

    assert (await row(migrated, person_id) or {})["consent_job_matching"] is False


async def test_consent_for_a_person_matching_never_heard_of_creates_nothing(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    stranger = uuid.uuid4()

    await send(producer, migrated, consent(stranger))

    assert await row(migrated, stranger) is None


# -- updates and statuses --------------------------------------------------------------------


async def test_an_older_update_replayed_does_not_overwrite_the_newer_record(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields()
    await send(producer, migrated, PersonRegistered(**fields))

    await send(producer, migrated, updated(fields, 3, province_code="LA-CH"))
    await send(producer, migrated, updated(fields, 2, skills=["carpentry"]))
    await send(producer, migrated, PersonRegistered(**fields))  # published again

    kept = await row(migrated, fields["person_id"])
    assert kept is not None
    assert kept["record_version"] == 3
    assert kept["province_code"] == "LA-CH"
    assert kept["skills"] == []
    assert "p:LA-CH" in kept["match_keys"]


async def test_placed_or_departed_people_are_not_matched_and_a_returned_jobseeker_is_again(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated)

    await send(producer, migrated, jobseeker_status(person_id, "placed"))
    placed = await row(migrated, person_id)
    await send(producer, migrated, jobseeker_status(person_id, "active"))
    await send(producer, migrated, migration(person_id, "departed"))
    departed = await row(migrated, person_id)
    await send(producer, migrated, migration(person_id, "returned"))
    returned = await row(migrated, person_id)

    assert placed is not None
    assert departed is not None
    assert returned is not None
    assert (placed["jobseeker_status"], placed["eligible"]) == ("placed", False)
    assert (departed["migration_status"], departed["eligible"]) == ("departed", False)
    assert (returned["migration_status"], returned["eligible"]) == ("returned", True)


async def test_a_prospective_migrant_without_a_jobseeker_profile_is_found_for_jobs_abroad(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(jobseeker=None)
    person_id = fields["person_id"]
    await send(producer, migrated, PersonRegistered(**fields))
    await send(producer, migrated, consent(person_id))
    not_yet = await row(migrated, person_id)

    await send(producer, migrated, migration(person_id, "prospective", "TH"))
    prospective = await row(migrated, person_id)
    await send(producer, migrated, updated(fields, 2, district="Xaythany"))
    still = await row(migrated, person_id)
    await send(producer, migrated, migration(person_id, "cancelled", "TH"))
    cancelled = await row(migrated, person_id)

    assert not_yet is not None
    assert prospective is not None
    assert still is not None
    assert cancelled is not None
    assert (not_yet["jobseeker_status"], not_yet["eligible"]) == (None, False)
    assert prospective["eligible"] is True
    assert {"w:abroad", "a:TH"} <= set(prospective["match_keys"])
    assert (still["district"], still["eligible"], still["willing_abroad"]) == (
        "Xaythany",
        True,
        True,
    )
    assert cancelled["eligible"] is False
    assert "w:abroad" not in cancelled["match_keys"]


async def test_ethnicity_disability_and_contact_details_are_never_stored(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(
        ethnicity="hmong",
        has_disability=True,
        phone="+8562059876543",
        email="keo.test@example.la",
        village="Ban Phonxay",
    )

    await send(producer, migrated, PersonRegistered(**fields))

    stored = await fetchval(
        migrated,
        "matching",
        "SELECT row_to_json(c)::text FROM candidates c WHERE person_id = $1",
        fields["person_id"],
    )
    kept = json.loads(stored)
    assert not {"ethnicity", "has_disability", "disability", "phone", "email", "village"} & set(
        kept
    )
    for value in ("hmong", "+8562059876543", "keo.test@example.la", "Ban Phonxay"):
        assert value not in stored


# -- merge and erasure -----------------------------------------------------------------------


async def test_a_merge_retires_the_duplicate_and_gives_the_survivor_its_orientations_and_consent(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    survivor = await candidate(producer, migrated, consented=False)
    duplicate = await candidate(producer, migrated)  # consented on the duplicate only
    for event in (
        orientation(survivor, "PDO-S-TH", "TH", valid_until=date(2027, 6, 30)),
        orientation(survivor, "PDO-S-MY", "MY", valid_until=date(2026, 6, 30)),
        orientation(duplicate, "PDO-D-TH", "TH", valid_until=date(2026, 12, 31)),
        orientation(duplicate, "PDO-D-MY", "MY", valid_until=date(2027, 3, 31)),
        orientation(duplicate, "PDO-D-KR", "KR"),
    ):
        await send(producer, migrated, event)

    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate,
            survivor_id=survivor,
            merged_by="officer-vt-1",
            merged_at=datetime.now(UTC),
        ),
    )
    # Predeparture may still know the person by the merged-away id.
    await send(producer, migrated, orientation(duplicate, "PDO-D-JP", "JP"))

    retired, kept = await row(migrated, duplicate), await row(migrated, survivor)
    assert retired is not None
    assert kept is not None
    assert (retired["record_status"], retired["merged_into"]) == ("merged", survivor)
    assert retired["eligible"] is False
    assert retired["match_keys"] == []
    assert kept["consent_job_matching"] is True
    assert kept["eligible"] is True
    held = await orientations(migrated, survivor)
    assert {c: o["certificate_number"] for c, o in held.items()} == {
        "TH": "PDO-S-TH",  # the survivor's was valid longer
        "MY": "PDO-D-MY",  # the duplicate's was valid longer
        "KR": "PDO-D-KR",
        "JP": "PDO-D-JP",
    }
    assert await orientations(migrated, duplicate) == {}


async def test_the_offices_serving_a_person_are_kept_and_follow_a_merge(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    survivor = await candidate(producer, migrated, province_code="LA-VT")
    duplicate = await candidate(producer, migrated, province_code="LA-VT")
    await send(producer, migrated, served_at(survivor, "MRC-SV", "LA-SV"))
    await send(producer, migrated, served_at(survivor, "MRC-SV", "LA-SV"))  # a second visit
    await send(producer, migrated, served_at(duplicate, "ESC-CH", "LA-CH"))
    served = await row(migrated, survivor)
    assert served is not None
    assert served["serving_offices"] == ["MRC-SV"]

    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate,
            survivor_id=survivor,
            merged_by="officer-vt-1",
            merged_at=datetime.now(UTC),
        ),
    )
    # Registry may still name the merged-away id: the survivor is served.
    await send(producer, migrated, served_at(duplicate, "MRC-LP", "LA-LP"))

    kept = await row(migrated, survivor)
    assert kept is not None
    assert kept["serving_offices"] == ["ESC-CH", "MRC-LP", "MRC-SV"]
    assert kept["province_code"] == "LA-VT"  # serving never moves the person


async def test_an_office_serving_a_person_reads_them_and_an_erasure_drops_it(
    producer: AIOKafkaProducer, migrated: Settings, candidates_client: httpx.AsyncClient
) -> None:
    person_id = await candidate(producer, migrated, province_code="LA-VT")
    path = f"/v1/candidates/{person_id}"
    savannakhet = bearer(migrated, "officer-sv-1", ["mrc_staff"], office="MRC-SV", province="LA-SV")
    before = await candidates_client.get(path, headers=savannakhet)

    await send(producer, migrated, served_at(person_id, "MRC-SV", "LA-SV"))
    after = await candidates_client.get(path, headers=savannakhet)
    await send(
        producer,
        migrated,
        PersonErased(person_id=person_id, erased_by="admin-1", erased_at=datetime.now(UTC)),
    )
    await send(producer, migrated, served_at(person_id, "ESC-CH", "LA-CH"))  # still in flight

    assert before.status_code == 403
    assert after.status_code == 200, after.text
    assert after.json()["serving_offices"] == ["MRC-SV"]
    assert await row(migrated, person_id) is None


async def test_the_latest_migration_record_keeps_its_destination(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated)
    await send(producer, migrated, migration(person_id, "prospective", "KR"))
    prospective = await row(migrated, person_id)
    await send(producer, migrated, migration(person_id, "cancelled", "KR"))
    await send(producer, migrated, migration(person_id, "ready", "TH"))
    ready = await row(migrated, person_id)

    assert prospective is not None
    assert ready is not None
    assert (prospective["migration_status"], prospective["migration_destination"]) == (
        "prospective",
        "KR",
    )
    assert (ready["migration_status"], ready["migration_destination"]) == ("ready", "TH")


async def test_erasure_leaves_nothing_of_the_person_in_any_matching_table(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated)
    await send(producer, migrated, orientation(person_id, "PDO-E-1"))
    await send(producer, migrated, migration(person_id, "prospective"))

    await send(
        producer,
        migrated,
        PersonErased(person_id=person_id, erased_by="officer-vt-1", erased_at=datetime.now(UTC)),
    )
    # Events still in flight about the person find nobody and create nothing.
    await send(producer, migrated, orientation(person_id, "PDO-E-2"))
    await send(producer, migrated, consent(person_id))

    columns = await fetch(
        migrated,
        "matching",
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type = 'uuid'",
    )
    left = {}
    for column in columns:
        count = await fetchval(
            migrated,
            "matching",
            f'SELECT count(*) FROM "{column["table_name"]}"'  # noqa: S608
            f' WHERE "{column["column_name"]}" = $1',
            person_id,
        )
        if count:
            left[f"{column['table_name']}.{column['column_name']}"] = count
    assert left == {}
    assert {"candidates.person_id", "candidate_orientations.person_id"} <= {
        f"{c['table_name']}.{c['column_name']}" for c in columns
    }


async def test_erasing_a_person_matching_does_not_hold_is_a_no_op(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    stranger = uuid.uuid4()

    await send(
        producer,
        migrated,
        PersonErased(person_id=stranger, erased_by="officer-vt-1", erased_at=datetime.now(UTC)),
    )

    assert await row(migrated, stranger) is None


# -- orientation -----------------------------------------------------------------------------


async def test_an_orientation_completed_is_kept_until_its_certificate_is_withdrawn(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person_id = await candidate(producer, migrated)

    await send(producer, migrated, orientation(person_id, "PDO-O-2"))
    # An earlier completion arriving late does not replace the later one.
    older = orientation(person_id, "PDO-O-1", recorded_at=NOW - timedelta(days=30))
    await send(producer, migrated, older)
    kept = await orientations(migrated, person_id)
    keys_kept = (await row(migrated, person_id) or {})["match_keys"]
    await send(producer, migrated, withdrawn(person_id, "PDO-O-1"))
    after_other = await orientations(migrated, person_id)
    await send(producer, migrated, withdrawn(person_id, "PDO-O-2"))
    after_own = await orientations(migrated, person_id)
    keys_after = (await row(migrated, person_id) or {})["match_keys"]

    assert kept["TH"]["certificate_number"] == "PDO-O-2"
    assert kept["TH"]["valid_until"] == date(2027, 1, 31)
    assert after_other["TH"]["certificate_number"] == "PDO-O-2"  # another certificate's voiding
    assert after_own == {}
    # Ranking searches people oriented for the destination first, by this key.
    assert "r:TH" in keys_kept
    assert "r:TH" not in keys_after


async def test_an_orientation_of_a_person_matching_does_not_hold_is_ignored(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    stranger = uuid.uuid4()

    await send(producer, migrated, orientation(stranger, "PDO-X-1"))

    assert await orientations(migrated, stranger) == {}


# -- redelivery ------------------------------------------------------------------------------


async def test_an_event_delivered_twice_is_applied_once(
    producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields()
    await send(producer, migrated, PersonRegistered(**fields))
    envelope = envelope_for(updated(fields, 2, skills=["masonry"]))

    await publish(producer, envelope)
    await publish(producer, envelope)
    await wait_until(lambda: applied(migrated, "matching", envelope.id))
    # Something after both copies, so that the second has surely been read.
    await send(producer, migrated, consent(fields["person_id"]))

    inbox = await fetchval(
        migrated, "matching", "SELECT count(*) FROM inbox WHERE event_id = $1", envelope.id
    )
    stored = await row(migrated, fields["person_id"])
    assert inbox == 1
    assert stored is not None
    assert (stored["record_version"], stored["skills"]) == (2, ["masonry"])


@pytest.fixture(scope="module")
async def matching_sessions(migrated: Settings) -> AsyncIterator[Any]:
    engine = create_engine(migrated, "matching")
    yield session_factory(engine)
    await engine.dispose()


async def _state(settings: Settings, *people: uuid.UUID) -> list[Any]:
    snapshot = []
    for person_id in people:
        stored = await row(settings, person_id)
        if stored is not None:
            stored.pop("updated_at")
        snapshot += [stored, await orientations(settings, person_id)]
    return snapshot


async def test_applying_each_event_again_even_past_the_inbox_leaves_the_same_state(
    producer: AIOKafkaProducer, migrated: Settings, matching_sessions: Any
) -> None:
    fields = person_fields(jobseeker=None)
    person_id, survivor = fields["person_id"], await candidate(producer, migrated)
    await send(producer, migrated, PersonRegistered(**fields))
    events: list[Event] = [
        consent(person_id),
        migration(person_id, "prospective"),
        served_at(person_id, "MRC-SV", "LA-SV"),
        updated(fields, 2, skills=["forklift"]),
        orientation(person_id, "PDO-R-1"),
        withdrawn(person_id, "PDO-R-1"),
        orientation(person_id, "PDO-R-2", "MY"),
        jobseeker_status(person_id, "active"),
        consent(person_id, "withdrawn"),
        PersonMerged(
            person_id=person_id,
            survivor_id=survivor,
            merged_by="officer-vt-1",
            merged_at=datetime.now(UTC),
        ),
        PersonErased(person_id=person_id, erased_by="officer-vt-1", erased_at=datetime.now(UTC)),
    ]

    for payload in events:
        envelope = envelope_for(payload)
        handler = HANDLERS[envelope.type]
        states = []
        for _ in range(2):
            async with matching_sessions() as session, session.begin():
                work = Work(session, migrated, matching_sessions, clock.today(), Resources())
                await handler(work, envelope, payload)
            states.append(await _state(migrated, person_id, survivor))
        assert states[0] == states[1], type(payload).__name__

    assert await row(migrated, person_id) is None
    assert set(await orientations(migrated, survivor)) == {"MY"}


# -- the read model over HTTP ----------------------------------------------------------------


@pytest.fixture(scope="module")
async def candidates_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    routers = MATCHING.routers
    spec = dataclasses.replace(
        MATCHING,
        routers=routers if candidates_router in routers else [*routers, candidates_router],
    )
    app = create_app(spec, migrated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_office_staff_of_the_province_read_the_candidate_with_why_they_are_excluded(
    producer: AIOKafkaProducer, migrated: Settings, candidates_client: httpx.AsyncClient
) -> None:
    person_id = await candidate(producer, migrated, consented=False, province_code="LA-CH")
    await send(producer, migrated, orientation(person_id, "PDO-A-1"))
    await send(producer, migrated, jobseeker_status(person_id, "placed"))
    path = f"/v1/candidates/{person_id}"
    champasak = bearer(migrated, "officer-ch-1", ["esc_staff"], office="ESC-CH", province="LA-CH")

    mine = await candidates_client.get(path, headers=champasak)

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["eligible"] is False
    assert [e["code"] for e in body["exclusions"]] == ["no_consent", "jobseeker_placed"]
    assert [o["certificate_number"] for o in body["orientations"]] == ["PDO-A-1"]
    assert body["province_code"] == "LA-CH"
    assert not {"ethnicity", "has_disability", "phone", "email"} & set(body)


async def test_only_staff_in_scope_read_a_candidate(
    producer: AIOKafkaProducer, migrated: Settings, candidates_client: httpx.AsyncClient
) -> None:
    person_id = await candidate(producer, migrated, province_code="LA-CH")
    path = f"/v1/candidates/{person_id}"
    vientiane = bearer(migrated, "officer-vt-1", ["esc_staff"], office="ESC-VT", province="LA-VT")
    national = bearer(migrated, "officer-hq-1", ["mrc_staff"], office="MOLSW", national=True)
    agency = bearer(migrated, "agent-1", ["agency"], agency="AG-CAND-1")
    analyst = bearer(migrated, "analyst-1", ["analyst"], national=True)

    other_province = await candidates_client.get(path, headers=vientiane)
    everywhere = await candidates_client.get(path, headers=national)
    as_agency = await candidates_client.get(path, headers=agency)
    as_analyst = await candidates_client.get(path, headers=analyst)
    unknown = await candidates_client.get(f"/v1/candidates/{uuid.uuid4()}", headers=national)

    assert other_province.status_code == 403
    assert everywhere.status_code == 200
    assert everywhere.json()["exclusions"] == []
    assert as_agency.status_code == 403
    assert as_analyst.status_code == 403
    assert unknown.status_code == 404


async def test_an_expired_consent_shows_as_an_exclusion_though_the_stored_flag_is_set(
    producer: AIOKafkaProducer, migrated: Settings, candidates_client: httpx.AsyncClient
) -> None:
    person_id = await candidate(producer, migrated, consented=False)
    await send(producer, migrated, consent(person_id, expires_on=clock.today() - timedelta(days=2)))
    national = bearer(migrated, "officer-hq-1", ["esc_staff"], office="MOLSW", national=True)

    body = (await candidates_client.get(f"/v1/candidates/{person_id}", headers=national)).json()

    assert body["eligible"] is True
    assert [e["code"] for e in body["exclusions"]] == ["consent_expired"]


async def test_a_merged_away_record_reads_as_merged_and_points_to_the_survivor(
    producer: AIOKafkaProducer, migrated: Settings, candidates_client: httpx.AsyncClient
) -> None:
    survivor = await candidate(producer, migrated)
    duplicate = await candidate(producer, migrated)
    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate,
            survivor_id=survivor,
            merged_by="officer-vt-1",
            merged_at=datetime.now(UTC),
        ),
    )
    national = bearer(migrated, "officer-hq-1", ["esc_staff"], office="MOLSW", national=True)

    body = (await candidates_client.get(f"/v1/candidates/{duplicate}", headers=national)).json()

    assert body["record_status"] == "merged"
    assert body["merged_into"] == str(survivor)
    assert [e["code"] for e in body["exclusions"]] == ["merged"]


def test_every_event_the_read_model_follows_has_a_handler() -> None:
    followed: set[type[Event]] = {
        PersonRegistered,
        PersonUpdated,
        PersonMerged,
        PersonErased,
        JobseekerStatusChanged,
        MigrationStatusChanged,
        PersonServedAt,
        OrientationCompleted,
        OrientationCompletionWithdrawn,
    }

    assert {e.event_type() for e in followed} < set(HANDLERS)
