"""Overseas recruitment against a demand letter: the agency's name list of referred workers,
never more than the quota, and the ledger of each worker's recruitment costs with who paid
them, where a cost pushed onto the worker is flagged, announced and counted against the agency.

People reach matching as registry events through the real broker; referrals, name lists and
costs go through the API.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.matching.recruitment import service
from services.matching.scope import Actor
from shared.auth import Principal, Role
from shared.db import create_engine, session_factory
from shared.events.matching import WorkerPaidCostRecorded
from shared.events.registry import PersonErased, PersonMerged
from tests.matching.conftest import candidate, send
from tests.matching.test_agencies import (
    TODAY,
    agent,
    events,
    new_agency,
    new_vacancy,
    overseas_body,
    published_overseas,
)
from tests.matching.test_employers import analyst, officer, supervisor
from tests.matching.test_vacancies import domestic_draft
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from aiokafka import AIOKafkaProducer
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("matching_consumer")

WORKER_PAID = WorkerPaidCostRecorded.event_type()
ABROAD = {"status": "active", "willing_to_work_abroad": True, "abroad_countries": ["TH"]}
PROBLEM = "application/problem+json"


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "matching")
    yield session_factory(engine)
    await engine.dispose()


async def referred(
    client: httpx.AsyncClient,
    settings: Settings,
    producer: AIOKafkaProducer,
    vacancy: dict[str, Any],
    count: int,
) -> list[str]:
    """`count` people willing to work in Thailand, each referred to the vacancy by an officer."""
    people = await asyncio.gather(
        *(candidate(producer, settings, jobseeker=ABROAD) for _ in range(count))
    )
    for person in people:
        response = await client.post(
            "/v1/referrals",
            json={"vacancy_id": vacancy["id"], "person_id": str(person)},
            headers=officer(settings),
        )
        assert response.status_code == 201, response.text
    return [str(p) for p in people]


async def submit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    vacancy: dict[str, Any],
    people: list[str],
) -> httpx.Response:
    return await client.post(
        f"/v1/vacancies/{vacancy['id']}/name-list",
        json={"entries": [{"person_id": p} for p in people]},
        headers=headers,
    )


async def withdraw(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    vacancy: dict[str, Any],
    person: str,
    reason: str | None = "found work at home",
) -> httpx.Response:
    return await client.post(
        f"/v1/vacancies/{vacancy['id']}/name-list/{person}/withdrawal",
        json={} if reason is None else {"reason": reason},
        headers=headers,
    )


async def selected_count(settings: Settings, vacancy: dict[str, Any]) -> int:
    count = await fetchval(
        settings,
        "matching",
        "SELECT count(*) FROM name_list_entries WHERE vacancy_id = $1 AND status = 'selected'",
        uuid.UUID(vacancy["id"]),
    )
    return int(count)


async def cost_count(settings: Settings, vacancy: dict[str, Any]) -> int:
    count = await fetchval(
        settings,
        "matching",
        "SELECT count(*) FROM recruitment_costs WHERE vacancy_id = $1",
        uuid.UUID(vacancy["id"]),
    )
    return int(count)


def cost(person: str, **overrides: Any) -> dict[str, Any]:
    """A visa the employer paid, a week ago."""
    body: dict[str, Any] = {
        "person_id": person,
        "item": "visa",
        "amount": "2000",
        "currency": "THB",
        "paid_by": "employer",
        "paid_on": (TODAY - timedelta(days=7)).isoformat(),
    }
    return body | overrides


async def record(
    client: httpx.AsyncClient, headers: dict[str, str], vacancy: dict[str, Any], body: Any
) -> httpx.Response:
    return await client.post(f"/v1/vacancies/{vacancy['id']}/costs", json=body, headers=headers)


async def on_the_list(
    client: httpx.AsyncClient,
    settings: Settings,
    producer: AIOKafkaProducer,
    count: int = 1,
    **vacancy_terms: Any,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """An agency, its published demand letter, and `count` workers on its name list."""
    agency = await new_agency(client, settings)
    vacancy = await published_overseas(client, settings, agency, **vacancy_terms)
    people = await referred(client, settings, producer, vacancy, count)
    response = await submit(client, agent(settings, agency), vacancy, people)
    assert response.status_code == 201, response.text
    return agency, vacancy, people


# -- the name list ---------------------------------------------------------------------------


async def test_an_agency_selects_referred_people_within_the_quota(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=3)
    people = await referred(matching_client, migrated, producer, vacancy, 3)

    response = await submit(matching_client, agent(migrated, agency), vacancy, people[:2])
    assert response.status_code == 201, response.text
    listed = response.json()
    assert (listed["quota"], listed["selected"], listed["remaining"]) == (3, 2, 1)
    assert listed["added"] == people[:2]
    assert listed["unchanged"] == []
    assert [e["person_id"] for e in listed["entries"]] == people[:2]
    first = listed["entries"][0]
    assert (first["status"], first["referral_status"]) == ("selected", "referred")
    assert first["submitted_by"] == f"agent-{agency['code'].lower()}"
    referral = await fetchval(
        migrated,
        "matching",
        "SELECT id FROM referrals WHERE vacancy_id = $1 AND person_id = $2",
        uuid.UUID(vacancy["id"]),
        uuid.UUID(people[0]),
    )
    assert first["referral_id"] == str(referral)

    # Office staff in scope submit too; the list keeps the order names were sent in.
    by_officer = await submit(matching_client, officer(migrated), vacancy, people[2:])
    assert by_officer.status_code == 201, by_officer.text
    assert (by_officer.json()["selected"], by_officer.json()["remaining"]) == (3, 0)

    read = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/name-list", headers=analyst(migrated)
    )
    assert read.status_code == 200
    assert [e["person_id"] for e in read.json()["entries"]] == people


async def test_resubmitting_a_selected_person_selects_them_once(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency, vacancy, people = await on_the_list(matching_client, migrated, producer, 1, positions=1)
    # The list is full, yet sending the same name again is not a second selection.
    again = await submit(matching_client, agent(migrated, agency), vacancy, people)
    assert again.status_code == 200, again.text
    assert (again.json()["added"], again.json()["unchanged"]) == ([], people)
    assert (again.json()["selected"], again.json()["remaining"]) == (1, 0)
    assert len(again.json()["entries"]) == 1
    assert await selected_count(migrated, vacancy) == 1


async def test_a_submission_over_the_quota_is_refused_and_writes_nothing(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=2)
    people = await referred(matching_client, migrated, producer, vacancy, 3)
    headers = agent(migrated, agency)

    over = await submit(matching_client, headers, vacancy, people)
    assert over.status_code == 409
    assert over.headers["content-type"].startswith(PROBLEM)
    problem = over.json()
    assert problem["type"].endswith("/name-list-quota-exceeded")
    assert "positions" in problem["rule"]
    assert (problem["quota"], problem["selected"], problem["remaining"]) == (2, 0, 2)
    assert problem["requested"] == 3
    assert await selected_count(migrated, vacancy) == 0

    assert (await submit(matching_client, headers, vacancy, people[:1])).status_code == 201
    still_over = await submit(matching_client, headers, vacancy, people[1:])
    assert still_over.status_code == 409
    assert (still_over.json()["selected"], still_over.json()["remaining"]) == (1, 1)
    assert await selected_count(migrated, vacancy) == 1


async def test_concurrent_submissions_never_exceed_the_quota(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=3)
    people = await referred(matching_client, migrated, producer, vacancy, 4)

    answers = await asyncio.gather(
        submit(matching_client, agent(migrated, agency), vacancy, people[:2]),
        submit(matching_client, officer(migrated), vacancy, people[2:]),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    [refused] = [a for a in answers if a.status_code == 409]
    assert (refused.json()["selected"], refused.json()["remaining"]) == (2, 1)
    assert await selected_count(migrated, vacancy) == 2


async def test_a_submission_waits_for_one_in_progress_and_counts_what_it_selected(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=3)
    people = await referred(matching_client, migrated, producer, vacancy, 4)
    actor = Actor(
        Principal("officer-vt-1", frozenset({Role.ESC_STAFF}), office="ESC-VT", province="LA-VT")
    )
    async with sessions() as session, session.begin():
        await service.submit_name_list(
            session,
            uuid.UUID(vacancy["id"]),
            [uuid.UUID(p) for p in people[:2]],
            actor,
            today=TODAY,
        )
        second = asyncio.create_task(
            submit(matching_client, agent(migrated, agency), vacancy, people[2:])
        )
        await asyncio.sleep(0.5)
        # The first holds the vacancy's row lock: the second cannot count the list yet.
        assert not second.done()
    refused = await second
    assert refused.status_code == 409, refused.text
    assert (refused.json()["selected"], refused.json()["remaining"]) == (2, 1)
    assert await selected_count(migrated, vacancy) == 2


async def test_a_person_without_an_open_referral_is_refused_naming_the_row(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=5)
    referred_people = await referred(matching_client, migrated, producer, vacancy, 2)
    never_referred = str(await candidate(producer, migrated, jobseeker=ABROAD))
    # A referral that ended is not open: the person withdrew before the interview.
    withdrawn_referral = await fetchval(
        migrated,
        "matching",
        "SELECT id FROM referrals WHERE vacancy_id = $1 AND person_id = $2",
        uuid.UUID(vacancy["id"]),
        uuid.UUID(referred_people[1]),
    )
    ended = await matching_client.post(
        f"/v1/referrals/{withdrawn_referral}/status",
        json={"status": "withdrawn", "reason": "changed their mind"},
        headers=officer(migrated),
    )
    assert ended.status_code == 200, ended.text

    rows = [referred_people[0], never_referred, referred_people[1], referred_people[0]]
    response = await submit(matching_client, agent(migrated, agency), vacancy, rows)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"].endswith("/name-list-rows-refused")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("entries.1.person_id", "no_open_referral"),
        ("entries.2.person_id", "no_open_referral"),
        ("entries.3.person_id", "duplicate"),
    ]
    assert never_referred in problem["errors"][0]["message"]
    # All or nothing: the good row was not written either.
    assert await selected_count(migrated, vacancy) == 0

    empty = await submit(matching_client, agent(migrated, agency), vacancy, [])
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "entries")


async def test_withdrawal_frees_a_place(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=1)
    first, second = await referred(matching_client, migrated, producer, vacancy, 2)
    headers = agent(migrated, agency)
    assert (await submit(matching_client, headers, vacancy, [first])).status_code == 201
    assert (await submit(matching_client, headers, vacancy, [second])).status_code == 409

    no_reason = await withdraw(matching_client, headers, vacancy, first, reason=None)
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (422, "reason")
    retry_headers = headers | {"Idempotency-Key": str(uuid.uuid4())}
    withdrawn = await withdraw(matching_client, retry_headers, vacancy, first)
    assert withdrawn.status_code == 200, withdrawn.text
    entry = withdrawn.json()
    assert (entry["status"], entry["withdrawal_reason"]) == ("withdrawn", "found work at home")
    assert entry["withdrawn_by"] == f"agent-{agency['code'].lower()}"
    assert entry["withdrawn_at"] is not None
    replayed = await withdraw(matching_client, retry_headers, vacancy, first)
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (200, "true")

    taken = await submit(matching_client, headers, vacancy, [second])
    assert taken.status_code == 201, taken.text
    assert [(e["person_id"], e["status"]) for e in taken.json()["entries"]] == [
        (first, "withdrawn"),
        (second, "selected"),
    ]
    assert (taken.json()["selected"], taken.json()["remaining"]) == (1, 0)

    again = await withdraw(matching_client, officer(migrated), vacancy, first)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/not-selected")
    unknown = await withdraw(matching_client, officer(migrated), vacancy, str(uuid.uuid4()))
    assert unknown.status_code == 404
    by_officer = await withdraw(matching_client, officer(migrated), vacancy, second, "medical")
    assert by_officer.status_code == 200
    selected = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/name-list",
        params={"status": "selected"},
        headers=headers,
    )
    assert (selected.json()["entries"], selected.json()["remaining"]) == ([], 1)


async def test_an_agency_cannot_touch_another_agencys_vacancy(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    mine = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, mine)
    someone = str(uuid.uuid4())
    url = f"/v1/vacancies/{vacancy['id']}"
    outsiders = {
        "another agency": agent(migrated, await new_agency(matching_client, migrated)),
        "an officer of another province": officer(migrated, "LA-CH"),
    }
    for who, headers in outsiders.items():
        answers = [
            await submit(matching_client, headers, vacancy, [someone]),
            await matching_client.get(f"{url}/name-list", headers=headers),
            await withdraw(matching_client, headers, vacancy, someone),
            await record(matching_client, headers, vacancy, cost(someone)),
            await matching_client.get(f"{url}/costs", headers=headers),
        ]
        assert [a.status_code for a in answers] == [403] * 5, who
    # Analysts read, and change nothing.
    reader = analyst(migrated)
    assert (await matching_client.get(f"{url}/name-list", headers=reader)).status_code == 200
    assert (await matching_client.get(f"{url}/costs", headers=reader)).status_code == 200
    assert (await submit(matching_client, reader, vacancy, [someone])).status_code == 403
    assert (await record(matching_client, reader, vacancy, cost(someone))).status_code == 403


async def test_names_are_taken_only_for_a_published_demand_letter(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    someone = str(uuid.uuid4())
    domestic = await domestic_draft(matching_client, migrated)
    for answer in (
        await submit(matching_client, officer(migrated), domestic, [someone]),
        await matching_client.get(
            f"/v1/vacancies/{domestic['id']}/name-list", headers=officer(migrated)
        ),
        await record(matching_client, officer(migrated), domestic, cost(someone)),
    ):
        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/not-a-demand-letter")
        assert answer.json()["kind"] == "domestic"

    agency = await new_agency(matching_client, migrated)
    draft = await new_vacancy(matching_client, agent(migrated, agency), overseas_body(agency["id"]))
    not_yet = await submit(matching_client, agent(migrated, agency), draft, [someone])
    assert not_yet.status_code == 409
    assert (not_yet.json()["type"], not_yet.json()["current_status"]) == (
        "https://labourx.la/problems/vacancy-not-recruiting",
        "draft",
    )

    # A suspended agency's demand letters are paused and take no names until it is reinstated.
    published = await published_overseas(matching_client, migrated, agency)
    suspended = await matching_client.post(
        f"/v1/agencies/{agency['id']}/status",
        json={"status": "suspended", "reason": "fees charged to workers"},
        headers=supervisor(migrated),
    )
    assert suspended.status_code == 200, suspended.text
    paused = await submit(matching_client, agent(migrated, agency), published, [someone])
    assert (paused.status_code, paused.json()["current_status"]) == (409, "paused")


# -- the cost ledger -------------------------------------------------------------------------


async def test_costs_are_kept_in_a_ledger_that_says_who_paid(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency, vacancy, (first, second) = await on_the_list(matching_client, migrated, producer, 2)
    headers = agent(migrated, agency)
    visa = await record(matching_client, headers, vacancy, cost(first, note="Thai embassy"))
    assert visa.status_code == 201, visa.text
    recorded = visa.json()
    assert (recorded["item"], recorded["amount"], recorded["currency"]) == (
        "visa",
        "2000.00",
        "THB",
    )
    assert (recorded["paid_by"], recorded["flagged"], recorded["rule"]) == (
        "employer",
        False,
        None,
    )
    assert recorded["agency_id"] == agency["id"]
    assert recorded["recorded_by"] == f"agent-{agency['code'].lower()}"
    assert recorded["note"] == "Thai embassy"
    for body, who in (
        (
            cost(first, item="medical_check", amount="450000", currency="lak", paid_by="agency"),
            headers,
        ),
        (cost(second, item="insurance", amount="1500.5", paid_by="employer"), headers),
        (
            cost(second, item="travel", amount="800", paid_by="agency", paid_on=None),
            officer(migrated),
        ),
    ):
        response = await record(matching_client, who, vacancy, body)
        assert response.status_code == 201, response.text

    ledger = await matching_client.get(f"/v1/vacancies/{vacancy['id']}/costs", headers=headers)
    assert ledger.status_code == 200
    book = ledger.json()
    assert [(c["person_id"], c["item"]) for c in book["items"]] == [
        (first, "visa"),
        (first, "medical_check"),
        (second, "insurance"),
        (second, "travel"),
    ]
    assert book["totals"] == [
        {"paid_by": "employer", "currency": "THB", "amount": "3500.50", "entries": 2},
        {"paid_by": "agency", "currency": "LAK", "amount": "450000.00", "entries": 1},
        {"paid_by": "agency", "currency": "THB", "amount": "800.00", "entries": 1},
    ]
    assert book["currency_totals"] == [
        {"currency": "LAK", "amount": "450000.00", "entries": 1},
        {"currency": "THB", "amount": "4300.50", "entries": 3},
    ]
    assert book["flagged"] == 0

    one = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/costs",
        params={"person_id": second},
        headers=officer(migrated),
    )
    assert one.json()["person_id"] == second
    assert [c["item"] for c in one.json()["items"]] == ["insurance", "travel"]
    assert [t["amount"] for t in one.json()["currency_totals"]] == ["2300.50"]


async def test_the_ledger_is_append_only(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency)
    url = f"/v1/vacancies/{vacancy['id']}/costs"
    headers = officer(migrated)
    assert (await matching_client.patch(url, json={}, headers=headers)).status_code == 405
    assert (await matching_client.delete(url, headers=headers)).status_code == 405
    assert (await matching_client.put(url, json={}, headers=headers)).status_code == 405


async def test_worker_paid_recruitment_costs_count_against_the_agency(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency, vacancy, (worker,) = await on_the_list(matching_client, migrated, producer)
    headers = agent(migrated, agency)
    before = await matching_client.get(f"/v1/agencies/{agency['id']}", headers=analyst(migrated))
    assert before.json()["worker_paid_costs"] == 0

    pushed = await record(
        matching_client,
        headers,
        vacancy,
        cost(worker, item="medical_check", amount="3000", paid_by="worker"),
    )
    assert pushed.status_code == 201, pushed.text
    flagged = pushed.json()
    assert (flagged["flagged"], flagged["rule"]) == (True, "ILO Employer Pays Principle")

    # Announced in the same transaction, keyed by the agency it counts against.
    [announced] = await events(migrated, agency["id"], WORKER_PAID)
    assert announced["cost_id"] == flagged["id"]
    assert (announced["person_id"], announced["vacancy_id"]) == (worker, vacancy["id"])
    assert (announced["item"], announced["amount"], announced["currency"]) == (
        "medical_check",
        "3000.00",
        "THB",
    )
    assert announced["agency_code"] == agency["code"]
    assert announced["recorded_by"] == f"agent-{agency['code'].lower()}"

    for paid_by in ("worker", "employer"):
        response = await record(
            matching_client, officer(migrated), vacancy, cost(worker, paid_by=paid_by)
        )
        assert response.status_code == 201, response.text
    read = await matching_client.get(f"/v1/agencies/{agency['id']}", headers=analyst(migrated))
    assert read.json()["worker_paid_costs"] == 2
    assert len(await events(migrated, agency["id"], WORKER_PAID)) == 2
    ledger = await matching_client.get(f"/v1/vacancies/{vacancy['id']}/costs", headers=headers)
    assert ledger.json()["flagged"] == 2
    assert [c["flagged"] for c in ledger.json()["items"]] == [True, True, False]
    worker_thb = [t for t in ledger.json()["totals"] if t["paid_by"] == "worker"]
    assert worker_thb == [
        {"paid_by": "worker", "currency": "THB", "amount": "5000.00", "entries": 2}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"currency": "QQQ"}, "currency"),
        ({"item": "service_fee"}, "item"),
        ({"paid_by": "recruiter"}, "paid_by"),
        ({"paid_on": (TODAY + timedelta(days=1)).isoformat()}, "paid_on"),
        ({"paid_by": "worker", "amount": "0"}, "amount"),
        ({"person_id": str(uuid.uuid4())}, "person_id"),
        ({"surprise": "field"}, "surprise"),
    ],
)
async def test_a_bad_cost_is_refused_naming_the_field_and_nothing_is_written(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    change: dict[str, Any],
    field: str,
) -> None:
    agency, vacancy, (worker,) = await on_the_list(matching_client, migrated, producer)
    outbox = await fetchval(migrated, "matching", "SELECT count(*) FROM outbox")
    response = await record(
        matching_client, agent(migrated, agency), vacancy, cost(worker, paid_by="worker") | change
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["field"] == field
    assert await cost_count(migrated, vacancy) == 0
    assert await fetchval(migrated, "matching", "SELECT count(*) FROM outbox") == outbox


async def test_every_bad_field_of_a_cost_is_named_in_one_answer(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency, vacancy, _ = await on_the_list(matching_client, migrated, producer)
    body = cost(
        str(uuid.uuid4()),
        paid_by="worker",
        amount="0",
        paid_on=(TODAY + timedelta(days=2)).isoformat(),
    )
    response = await record(matching_client, agent(migrated, agency), vacancy, body)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["person_id", "paid_on", "amount"]
    assert await cost_count(migrated, vacancy) == 0


async def test_a_retried_cost_is_recorded_once(
    matching_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    agency, vacancy, (worker,) = await on_the_list(matching_client, migrated, producer)
    headers = agent(migrated, agency) | {"Idempotency-Key": str(uuid.uuid4())}
    body = cost(worker, item="work_permit", amount="1900", paid_by="worker")
    first = await record(matching_client, headers, vacancy, body)
    retry = await record(matching_client, headers, vacancy, body)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.content == first.content  # the same bytes, fields in the same order
    assert await cost_count(migrated, vacancy) == 1
    assert len(await events(migrated, agency["id"], WORKER_PAID)) == 1
    read = await matching_client.get(f"/v1/agencies/{agency['id']}", headers=analyst(migrated))
    assert read.json()["worker_paid_costs"] == 1


async def test_a_merge_moves_name_list_entries_and_costs_and_an_erasure_blanks_their_notes(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency, positions=5)
    survivor, duplicate = await referred(matching_client, migrated, producer, vacancy, 2)
    assert (
        await submit(matching_client, agent(migrated, agency), vacancy, [survivor, duplicate])
    ).status_code == 201
    for person in (survivor, duplicate):
        answer = await record(
            matching_client,
            agent(migrated, agency),
            vacancy,
            cost(person, note=f"paid by {person}"),
        )
        assert answer.status_code == 201, answer.text

    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=uuid.UUID(duplicate),
            survivor_id=uuid.UUID(survivor),
            merged_by="officer-vt-1",
            merged_at=datetime.now(UTC),
        ),
    )
    merged = await fetch(
        migrated,
        "matching",
        "SELECT person_id, status, withdrawal_reason FROM name_list_entries WHERE vacancy_id = $1"
        " ORDER BY status",
        uuid.UUID(vacancy["id"]),
    )
    await send(
        producer,
        migrated,
        PersonErased(
            person_id=uuid.UUID(survivor), erased_by="admin-1", erased_at=datetime.now(UTC)
        ),
    )
    costs = await fetch(
        migrated,
        "matching",
        "SELECT person_id, note, amount FROM recruitment_costs WHERE vacancy_id = $1",
        uuid.UUID(vacancy["id"]),
    )
    entries = await fetch(
        migrated,
        "matching",
        "SELECT withdrawal_reason FROM name_list_entries WHERE vacancy_id = $1",
        uuid.UUID(vacancy["id"]),
    )

    assert [(str(r["person_id"]), r["status"]) for r in merged] == [
        (survivor, "selected"),
        (survivor, "withdrawn"),
    ]
    assert merged[1]["withdrawal_reason"].startswith("duplicate record merged")
    assert {str(r["person_id"]) for r in costs} == {survivor}
    assert [r["note"] for r in costs] == [None, None]
    assert len(costs) == 2  # the amounts stay as evidence against the agency
    assert {r["withdrawal_reason"] for r in entries} == {None}
