"""Referrals and placements: the lifecycle and its events, what a referral and an overseas
placement need first, one active placement per person under concurrency, who sees what, and
what merges and erasures in registry do to them."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.events.matching import (
    PlacementEnded,
    PlacementMade,
    ReferralStatusChanged,
    VacancyStatusChanged,
)
from shared.events.predeparture import OrientationCompleted
from shared.events.registry import (
    MigrationStatusChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
)
from tests.matching.conftest import candidate, consent, person_fields, send, updated
from tests.matching.test_agencies import (
    TODAY,
    agent,
    events,
    new_agency,
    published_overseas,
    set_status,
)
from tests.matching.test_employers import analyst, officer, supervisor
from tests.matching.test_vacancies import domestic_draft
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("matching_consumer")

REFERRAL_CHANGED = ReferralStatusChanged.event_type()


async def published_domestic(
    client: httpx.AsyncClient, settings: Settings, **overrides: Any
) -> dict[str, Any]:
    draft = await domestic_draft(client, settings, **overrides)
    return await set_status(client, officer(settings), draft, "published")


async def jobseeker_for(
    producer: AIOKafkaProducer, settings: Settings, isco08: str = "8153", **fields: Any
) -> uuid.UUID:
    """A consenting active jobseeker of Vientiane Capital with experience in `isco08`."""
    return await candidate(
        producer,
        settings,
        experience=[{"isco08": isco08, "years": 2}],
        jobseeker={"status": "active", "willing_to_work_abroad": True},
        **fields,
    )


PASSPORT_VALID = TODAY + timedelta(days=3 * 365)


def migration(person: uuid.UUID, status: str, country: str) -> MigrationStatusChanged:
    """Registry's announcement that the person's latest migration record is `status`."""
    return MigrationStatusChanged(
        person_id=person,
        migration_id=uuid.uuid4(),
        status=status,
        destination_country=country,
        channel="mou",
        changed_by="officer-vt-1",
        changed_at=datetime.now(UTC),
    )


def completed(person: uuid.UUID, country: str) -> OrientationCompleted:
    """Predeparture's word that the person completed orientation for `country`, valid a year."""
    return OrientationCompleted(
        person_id=person,
        certificate_number=f"PDO-{uuid.uuid4().hex[:8]}",
        destination_country=country,
        completed_on=TODAY,
        valid_until=TODAY + timedelta(days=365),
        recorded_at=datetime.now(UTC),
    )


async def refer(
    client: httpx.AsyncClient,
    settings: Settings,
    vacancy: dict[str, Any],
    person: uuid.UUID,
    expected: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/referrals",
        json={"vacancy_id": vacancy["id"], "person_id": str(person), **extra},
        headers=officer(settings),
    )
    assert response.status_code == expected, response.text
    return dict(response.json())


async def move(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    referral: dict[str, Any],
    status: str,
    reason: str | None = None,
) -> httpx.Response:
    body = {"status": status} | ({"reason": reason} if reason else {})
    return await client.post(f"/v1/referrals/{referral['id']}/status", json=body, headers=headers)


async def offered(
    client: httpx.AsyncClient, settings: Settings, vacancy: dict[str, Any], person: uuid.UUID
) -> dict[str, Any]:
    """A referral of `person` to `vacancy` that reached an offer."""
    referral = await refer(client, settings, vacancy, person)
    for status in ("interviewed", "offered"):
        response = await move(client, officer(settings), referral, status)
        assert response.status_code == 200, response.text
    return referral


def fields(response: httpx.Response) -> list[str]:
    """The fields a 422 problem names."""
    return [e["field"] for e in response.json()["errors"]]


async def place(
    client: httpx.AsyncClient, settings: Settings, referral: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/referrals/{referral['id']}/placement", json=body, headers=officer(settings)
    )


async def test_a_referral_moves_through_its_lifecycle_and_each_step_is_announced(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated, positions=2)
    person = await jobseeker_for(producer, migrated)

    referral = await refer(matching_client, migrated, vacancy, person, note="Good fit")
    for status in ("interviewed", "offered"):
        moved = await move(matching_client, officer(migrated), referral, status)
        assert moved.status_code == 200, moved.text
    placed = await place(matching_client, migrated, referral, starts_on=TODAY.isoformat())
    read = await matching_client.get(f"/v1/referrals/{referral['id']}", headers=officer(migrated))
    job = await matching_client.get(f"/v1/vacancies/{vacancy['id']}", headers=officer(migrated))

    assert referral["status"] == "referred"
    assert referral["score"] > 0
    assert placed.status_code == 201, placed.text
    assert placed.json()["person_id"] == str(person)
    assert placed.json()["status"] == "active"
    history = read.json()["history"]
    assert [(h["previous_status"], h["status"]) for h in history] == [
        (None, "referred"),
        ("referred", "interviewed"),
        ("interviewed", "offered"),
        ("offered", "placed"),
    ]
    announced = await events(migrated, referral["id"], REFERRAL_CHANGED)
    assert [e["status"] for e in announced] == ["referred", "interviewed", "offered", "placed"]
    assert {e["person_id"] for e in announced} == {str(person)}
    [made] = await events(migrated, referral["id"], PlacementMade.event_type())
    assert made["overseas"] is False
    assert made["isco08"] == "8153"
    assert job.json()["open_positions"] == 1
    assert job.json()["status"] == "published"


async def test_a_referral_moves_only_along_its_lifecycle(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated)
    person = await jobseeker_for(producer, migrated)
    referral = await refer(matching_client, migrated, vacancy, person)

    too_early = await place(matching_client, migrated, referral)
    no_reason = await move(matching_client, officer(migrated), referral, "rejected")
    no_show = await move(matching_client, officer(migrated), referral, "no_show")
    afterwards = await move(matching_client, officer(migrated), referral, "interviewed")
    placed_by_status = await move(matching_client, officer(migrated), referral, "placed")

    assert too_early.status_code == 409
    assert too_early.json()["current_status"] == "referred"
    assert "placed" not in too_early.json()["allowed"]
    assert no_reason.status_code == 422
    assert fields(no_reason) == ["reason"]
    assert no_show.status_code == 200
    assert afterwards.status_code == 409
    assert afterwards.json()["allowed"] == []
    assert afterwards.headers["content-type"].startswith("application/problem+json")
    assert placed_by_status.status_code == 422
    assert fields(placed_by_status) == ["status"]


async def test_a_referral_needs_a_published_vacancy_and_a_person_the_filters_let_through(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    draft = await domestic_draft(matching_client, migrated)
    vacancy = await published_domestic(matching_client, migrated)
    person = await jobseeker_for(producer, migrated)
    unconsented = await jobseeker_for(producer, migrated, consented=False)

    to_draft = await refer(matching_client, migrated, draft, person, expected=409)
    without_consent = await refer(matching_client, migrated, vacancy, unconsented, expected=409)
    unknown = await refer(matching_client, migrated, vacancy, uuid.uuid4(), expected=404)
    await refer(matching_client, migrated, vacancy, person)
    twice = await refer(matching_client, migrated, vacancy, person, expected=409)

    assert [r["code"] for r in to_draft["reasons"]] == ["vacancy_status"]
    assert [r["code"] for r in without_consent["reasons"]] == ["no_consent"]
    assert unknown["field"] == "person_id"
    assert twice["type"].endswith("already-referred")
    count = await fetchval(
        migrated,
        "matching",
        "SELECT count(*) FROM referrals WHERE person_id = ANY($1)",
        [person, unconsented],
    )
    assert count == 1


async def test_placing_the_last_open_position_fills_the_vacancy(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated, positions=1)
    first = await jobseeker_for(producer, migrated)
    second = await jobseeker_for(producer, migrated)
    taken = await offered(matching_client, migrated, vacancy, first)
    late = await offered(matching_client, migrated, vacancy, second)

    placed = await place(matching_client, migrated, taken)
    too_late = await place(matching_client, migrated, late)
    job = await matching_client.get(f"/v1/vacancies/{vacancy['id']}", headers=officer(migrated))

    assert placed.status_code == 201
    assert job.json()["status"] == "filled"
    assert job.json()["open_positions"] == 0
    assert too_late.status_code == 409
    assert [r["code"] for r in too_late.json()["reasons"]] == ["vacancy_status"]
    changes = await events(migrated, vacancy["id"], VacancyStatusChanged.event_type())
    assert changes[-1]["status"] == "filled"
    assert changes[-1]["open_positions"] == 0


async def test_two_officers_placing_one_person_at_the_same_moment_do_not_both_succeed(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """The unique index on a person's active placement decides; repeated to catch races."""
    for _ in range(4):
        person = await jobseeker_for(producer, migrated)
        one = await published_domestic(matching_client, migrated)
        other = await published_domestic(matching_client, migrated)
        first = await offered(matching_client, migrated, one, person)
        second = await offered(matching_client, migrated, other, person)

        answers = await asyncio.gather(
            place(matching_client, migrated, first), place(matching_client, migrated, second)
        )

        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], [a.text for a in answers]
        [refused] = [a for a in answers if a.status_code == 409]
        assert refused.json()["type"].endswith("already-placed")
        placements = await fetchval(
            migrated,
            "matching",
            "SELECT count(*) FROM placements WHERE person_id = $1 AND status = 'active'",
            person,
        )
        positions = await fetch(
            migrated,
            "matching",
            "SELECT open_positions FROM vacancies WHERE id = ANY($1) ORDER BY open_positions",
            [uuid.UUID(one["id"]), uuid.UUID(other["id"])],
        )
        assert placements == 1
        # Nothing of the refused placement was written: one vacancy lost a position, not both.
        assert [r["open_positions"] for r in positions] == [4, 5]


async def test_an_ended_placement_lets_the_person_be_placed_again(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person = await jobseeker_for(producer, migrated)
    first_job = await published_domestic(matching_client, migrated)
    second_job = await published_domestic(matching_client, migrated)
    first = await offered(matching_client, migrated, first_job, person)
    placement = (await place(matching_client, migrated, first)).json()
    second = await offered(matching_client, migrated, second_job, person)

    blocked = await place(matching_client, migrated, second)
    url = f"/v1/placements/{placement['id']}/end"
    future = await matching_client.post(
        url,
        json={"ended_on": (TODAY + timedelta(days=3)).isoformat(), "reason": "contract ended"},
        headers=officer(migrated),
    )
    ended = await matching_client.post(
        url,
        json={"ended_on": TODAY.isoformat(), "reason": "contract ended"},
        headers=officer(migrated),
    )
    again = await matching_client.post(
        url, json={"ended_on": TODAY.isoformat(), "reason": "again"}, headers=officer(migrated)
    )
    placed_again = await place(matching_client, migrated, second)

    assert blocked.status_code == 409
    assert future.status_code == 422
    assert fields(future) == ["ended_on"]
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    assert ended.json()["ended_on"] == TODAY.isoformat()
    assert again.status_code == 409
    assert placed_again.status_code == 201, placed_again.text
    [announced] = await events(migrated, first["id"], PlacementEnded.event_type())
    assert announced["placement_id"] == placement["id"]
    assert announced["person_id"] == str(person)


async def test_an_overseas_placement_needs_an_active_licence_and_completed_orientation(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency)
    person = await jobseeker_for(producer, migrated, passport_expires_on=PASSPORT_VALID)
    await send(producer, migrated, migration(person, "prospective", "TH"))
    referral = await offered(matching_client, migrated, vacancy, person)

    without_orientation = await place(matching_client, migrated, referral)
    suspended = await matching_client.post(
        f"/v1/agencies/{agency['id']}/status",
        json={"status": "suspended", "reason": "fees charged to workers"},
        headers=supervisor(migrated),
    )
    await send(
        producer,
        migrated,
        OrientationCompleted(
            person_id=person,
            certificate_number=f"PDO-{uuid.uuid4().hex[:8]}",
            destination_country="TH",
            completed_on=TODAY,
            valid_until=TODAY + timedelta(days=365),
            recorded_at=datetime.now(UTC),
        ),
    )
    while_suspended = await place(matching_client, migrated, referral)
    new_referral = await refer(
        matching_client, migrated, vacancy, await jobseeker_for(producer, migrated), 409
    )
    await matching_client.post(
        f"/v1/agencies/{agency['id']}/status",
        json={"status": "active", "reason": "fees refunded"},
        headers=supervisor(migrated),
    )
    placed = await place(matching_client, migrated, referral)

    assert without_orientation.status_code == 409
    assert without_orientation.json()["field"] == "predeparture_orientation"
    assert [m["code"] for m in without_orientation.json()["missing"]] == [
        "predeparture_orientation"
    ]
    assert suspended.status_code == 200
    assert while_suspended.status_code == 409
    assert [m["code"] for m in while_suspended.json()["missing"]] == ["agency_licence"]
    assert {r["code"] for r in new_referral["reasons"]} >= {"vacancy_status", "agency_licence"}
    assert placed.status_code == 201, placed.text
    [made] = await events(migrated, referral["id"], PlacementMade.event_type())
    assert made["overseas"] is True
    assert (made["destination_country"], made["channel"], made["agency_code"]) == (
        "TH",
        "mou",
        agency["code"],
    )


async def test_an_overseas_placement_needs_a_passport_and_an_open_migration_record_for_it(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    starts_on = TODAY + timedelta(days=30)
    vacancy = await published_overseas(
        matching_client, migrated, agency, starts_on=starts_on.isoformat()
    )
    fields = person_fields(
        experience=[{"isco08": "8153", "years": 2}],
        jobseeker={"status": "active", "willing_to_work_abroad": True},
    )
    person = fields["person_id"]
    await send(producer, migrated, PersonRegistered(**fields))
    await send(producer, migrated, consent(person))
    await send(producer, migrated, completed(person, "TH"))
    referral = await offered(matching_client, migrated, vacancy, person)

    neither = await place(matching_client, migrated, referral)
    short = starts_on + timedelta(days=100)  # valid at the start, not six months past it
    await send(producer, migrated, updated(fields, 2, passport_expires_on=short))
    await send(producer, migrated, migration(person, "prospective", "KR"))
    elsewhere = await place(matching_client, migrated, referral)
    await send(producer, migrated, updated(fields, 3, passport_expires_on=PASSPORT_VALID))
    await send(producer, migrated, migration(person, "cancelled", "KR"))
    await send(producer, migrated, migration(person, "prospective", "TH"))
    placed = await place(matching_client, migrated, referral)

    assert neither.status_code == 409
    assert [m["code"] for m in neither.json()["missing"]] == ["passport", "migration_record"]
    assert neither.json()["detail"].startswith("no passport is recorded")
    assert elsewhere.status_code == 409
    missing = {m["code"]: m["detail"] for m in elsewhere.json()["missing"]}
    assert list(missing) == ["passport", "migration_record"]
    assert short.isoformat() in missing["passport"]
    assert "(the latest is prospective for KR)" in missing["migration_record"]
    assert placed.status_code == 201, placed.text


async def test_an_agency_follows_referrals_to_its_own_vacancies_only(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    rival = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency)
    theirs = await published_overseas(matching_client, migrated, rival)
    person = await jobseeker_for(producer, migrated)
    referral = await refer(matching_client, migrated, vacancy, person)
    other = await refer(matching_client, migrated, theirs, person)

    listed = await matching_client.get("/v1/referrals", headers=agent(migrated, agency))
    interviewed = await move(matching_client, agent(migrated, agency), referral, "interviewed")
    withdrawn = await move(
        matching_client, agent(migrated, agency), referral, "withdrawn", "not asked by agency"
    )
    foreign = await matching_client.get(
        f"/v1/referrals/{other['id']}", headers=agent(migrated, agency)
    )
    refers = await matching_client.post(
        "/v1/referrals",
        json={"vacancy_id": vacancy["id"], "person_id": str(person)},
        headers=agent(migrated, agency),
    )

    assert listed.status_code == 200
    assert {r["vacancy_id"] for r in listed.json()["items"]} == {vacancy["id"]}
    assert interviewed.status_code == 200
    assert withdrawn.status_code == 403  # withdrawing is the person's or the officer's decision
    assert foreign.status_code == 403
    assert refers.status_code == 403  # officers refer; agencies select from referrals


async def test_officers_see_referrals_of_their_province_and_national_staff_see_all(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated)
    person = await jobseeker_for(producer, migrated)
    referral = await refer(matching_client, migrated, vacancy, person)
    url = f"/v1/referrals/{referral['id']}"

    elsewhere = await matching_client.get(url, headers=officer(migrated, "LA-LP"))
    elsewhere_list = await matching_client.get(
        "/v1/referrals", params={"person_id": str(person)}, headers=officer(migrated, "LA-LP")
    )
    national = await matching_client.get(url, headers=analyst(migrated))

    assert elsewhere.status_code == 403
    assert elsewhere_list.json()["items"] == []
    assert national.status_code == 200


async def test_a_retried_placement_is_made_once(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated)
    person = await jobseeker_for(producer, migrated)
    referral = await offered(matching_client, migrated, vacancy, person)
    headers = officer(migrated) | {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/v1/referrals/{referral['id']}/placement"

    first = await matching_client.post(url, json={}, headers=headers)
    retry = await matching_client.post(url, json={}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.content == first.content  # the same bytes, fields in the same order
    assert retry.headers["Idempotent-Replayed"] == "true"
    count = await fetchval(
        migrated, "matching", "SELECT count(*) FROM placements WHERE person_id = $1", person
    )
    assert count == 1


async def test_a_merge_moves_referrals_to_the_survivor_and_withdraws_a_clashing_one(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated)
    other = await published_domestic(matching_client, migrated)
    survivor = await jobseeker_for(producer, migrated)
    duplicate = await jobseeker_for(producer, migrated)
    kept = await refer(matching_client, migrated, vacancy, survivor)
    clash = await refer(matching_client, migrated, vacancy, duplicate)
    moved = await refer(matching_client, migrated, other, duplicate)

    merge = PersonMerged(
        person_id=duplicate,
        survivor_id=survivor,
        merged_by="officer-vt-1",
        merged_at=datetime.now(UTC),
    )
    await send(producer, migrated, merge)
    await send(producer, migrated, merge)  # a redelivery changes nothing more

    rows = {
        str(r["id"]): dict(r)
        for r in await fetch(
            migrated,
            "matching",
            "SELECT id, person_id, status FROM referrals WHERE id = ANY($1)",
            [uuid.UUID(r["id"]) for r in (kept, clash, moved)],
        )
    }
    assert {r["person_id"] for r in rows.values()} == {survivor}
    assert rows[kept["id"]]["status"] == "referred"
    assert rows[moved["id"]]["status"] == "referred"
    assert rows[clash["id"]]["status"] == "withdrawn"
    announced = await events(migrated, clash["id"], REFERRAL_CHANGED)
    assert [e["status"] for e in announced] == ["referred", "withdrawn"]


async def test_an_erasure_blanks_what_officers_wrote_about_the_person(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await published_domestic(matching_client, migrated)
    person = await jobseeker_for(producer, migrated)
    referral = await refer(matching_client, migrated, vacancy, person, note="Called Mr Somsak")
    await move(matching_client, officer(migrated), referral, "withdrawn", "Somsak moved to Pakse")

    await send(
        producer,
        migrated,
        PersonErased(person_id=person, erased_by="admin-1", erased_at=datetime.now(UTC)),
    )

    [row] = await fetch(
        migrated,
        "matching",
        "SELECT r.note, array_agg(h.reason) AS reasons FROM referrals r"
        " JOIN referral_status_changes h ON h.referral_id = r.id WHERE r.id = $1 GROUP BY r.note",
        uuid.UUID(referral["id"]),
    )
    assert row["note"] is None
    assert set(row["reasons"]) == {None}
    text = json.dumps(
        [
            dict(r)
            for r in await fetch(
                migrated, "matching", "SELECT * FROM candidates WHERE person_id = $1", person
            )
        ],
        default=str,
    )
    assert text == "[]"
