"""The job bank's vacancies: domestic jobs and overseas demand letters, the Employer Pays
Principle, who may see and change them, and their lifecycle, each change announced."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.matching.app import SPEC
from services.matching.vacancies.lifecycle import NoOpenPosition, take_position
from services.matching.vacancies.models import Vacancy
from shared.db import create_engine, session_factory
from shared.jobs import run_once
from tests.matching.test_agencies import (
    AGENCY_CHANGED,
    TODAY,
    VACANCY_CHANGED,
    agent,
    events,
    new_agency,
    new_vacancy,
    overseas_body,
    published_overseas,
    set_status,
    travel,
    vacancy_row,
)
from tests.matching.test_employers import analyst, new_employer, officer, supervisor
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

[VACANCY_EXPIRY] = [job for job in SPEC.jobs if job.name == "vacancy-expiry"]
OUTBOX = "SELECT count(*) FROM outbox"


def domestic_body(employer_id: str, **overrides: Any) -> dict[str, Any]:
    """A job at a Vientiane garment factory, paid monthly in kip."""
    body: dict[str, Any] = {
        "kind": "domestic",
        "title": "Garment sewing operator",
        "description": "Day shift, overtime paid",
        "isco08": "8153",
        "employer_id": employer_id,
        "province_code": "LA-VT",
        "district": "Sikhottabong",
        "required_skills": [" Sewing", "SEWING", "Overlock  machine"],
        "min_isced": 2,
        "languages": ["lao"],
        "positions": 5,
        "wage_amount": "2500000",
        "wage_currency": "lak",
        "wage_period": "month",
        "closes_on": (TODAY + timedelta(days=30)).isoformat(),
    }
    return body | overrides


async def domestic_draft(
    client: httpx.AsyncClient, settings: Settings, province: str = "LA-VT", **overrides: Any
) -> dict[str, Any]:
    employer = await new_employer(client, settings, province_code=province)
    body = domestic_body(employer["id"], province_code=province, **overrides)
    return await new_vacancy(client, officer(settings, province), body)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "matching")
    yield session_factory(engine)
    await engine.dispose()


# -- recording a vacancy ---------------------------------------------------------------------


async def test_an_officer_records_a_domestic_vacancy_as_a_draft_and_it_is_announced(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated)
    response = await matching_client.post(
        "/v1/vacancies", json=domestic_body(employer["id"]), headers=officer(migrated)
    )
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    vacancy = response.json()
    assert vacancy["status"] == "draft"
    assert vacancy["reference"].startswith("V-")
    assert len(vacancy["reference"]) == 10
    assert vacancy["required_skills"] == ["sewing", "overlock machine"]
    assert vacancy["languages"] == ["lo"]
    assert (vacancy["wage_currency"], vacancy["min_age"]) == ("LAK", 15)
    assert (vacancy["positions"], vacancy["open_positions"]) == (5, 5)
    assert (vacancy["worker_fees"], vacancy["worker_fee_total"]) == ([], "0.00")
    assert (vacancy["office_code"], vacancy["created_by"]) == ("ESC-VT", "officer-vt-1")
    keys = await fetchval(
        migrated,
        "matching",
        "SELECT match_keys FROM vacancies WHERE id = $1",
        uuid.UUID(vacancy["id"]),
    )
    assert keys == ["o1:8", "o2:81", "o3:815", "o4:8153", "p:LA-VT"]

    [drafted] = await events(migrated, vacancy["id"], VACANCY_CHANGED)
    assert drafted["status"] == "draft"
    assert drafted.get("previous_status") is None
    assert drafted["reference"] == vacancy["reference"]
    assert (drafted["overseas"], drafted["province_code"]) == (False, "LA-VT")
    assert drafted["employer_id"] == employer["id"]
    assert (drafted["positions"], drafted["open_positions"]) == (5, 5)


async def test_a_fee_charged_to_the_worker_is_refused_and_nothing_is_written(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    body = overseas_body(
        agency["id"],
        worker_fees=[
            {"item": "visa", "amount": "0", "currency": "THB"},
            {"item": "service fee", "amount": "1500", "currency": "THB"},
        ],
    )
    outbox = await fetchval(migrated, "matching", OUTBOX)
    response = await matching_client.post(
        "/v1/vacancies", json=body, headers=agent(migrated, agency)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/worker-fees-not-allowed")
    assert problem["field"] == "worker_fees"
    assert "Employer Pays" in problem["rule"]
    assert problem["errors"][0]["field"] == "worker_fees"
    assert "service fee 1500 THB" in problem["detail"]
    written = await fetchval(
        migrated,
        "matching",
        "SELECT count(*) FROM vacancies WHERE demand_letter_ref = $1",
        body["demand_letter_ref"],
    )
    assert written == 0
    assert await fetchval(migrated, "matching", OUTBOX) == outbox


async def test_a_fee_added_to_a_draft_is_refused_too(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    draft = await domestic_draft(matching_client, migrated)
    response = await matching_client.patch(
        f"/v1/vacancies/{draft['id']}",
        json={"worker_fees": [{"item": "uniform", "amount": "50000", "currency": "LAK"}]},
        headers=officer(migrated),
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/worker-fees-not-allowed")
    row = await fetch(
        migrated,
        "matching",
        "SELECT worker_fees, version FROM vacancies WHERE id = $1",
        uuid.UUID(draft["id"]),
    )
    assert (row[0]["worker_fees"], row[0]["version"]) == ("[]", 1)
    negative = await matching_client.patch(
        f"/v1/vacancies/{draft['id']}",
        json={"worker_fees": [{"item": "refund", "amount": "-5", "currency": "LAK"}]},
        headers=officer(migrated),
    )
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["field"] == "worker_fees.0.amount"


async def test_bad_terms_are_refused_naming_the_field(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"isco08": "81"}, "isco08"),
        ({"isco08": "9999"}, "isco08"),
        ({"employer_id": str(uuid.uuid4())}, "employer_id"),
        ({"district": None}, "district"),
        ({"destination_country": "TH"}, "destination_country"),
        ({"positions": 0}, "positions"),
        ({"wage_amount": "0"}, "wage_amount"),
        ({"wage_currency": "XYZ"}, "wage_currency"),
        ({"wage_period": "year"}, "wage_period"),
        ({"languages": ["zz"]}, "languages.0"),
        ({"min_isced": 9}, "min_isced"),
        ({"min_age": 14}, "min_age"),
        ({"min_age": 30, "max_age": 25}, "max_age"),
        ({"closes_on": (TODAY - timedelta(days=1)).isoformat()}, "closes_on"),
    ]
    for overrides, field in cases:
        response = await matching_client.post(
            "/v1/vacancies",
            json=domestic_body(employer["id"]) | overrides,
            headers=officer(migrated),
        )
        assert response.status_code == 422, (overrides, response.text)
        assert response.json()["errors"][0]["field"] == field, overrides


def named(response: httpx.Response) -> dict[str, str]:
    """The fields a 422 names, with the message of each."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_every_bad_term_of_a_vacancy_is_named_in_one_answer(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = domestic_body(
        str(uuid.uuid4()),
        district=None,
        destination_country="TH",
        min_age=14,
        max_age=12,
        closes_on=(TODAY - timedelta(days=1)).isoformat(),
    )
    response = await matching_client.post("/v1/vacancies", json=body, headers=officer(migrated))

    errors = named(response)
    assert list(errors) == [
        "district",
        "destination_country",
        "min_age",
        "max_age",
        "closes_on",
        "employer_id",
    ]
    assert errors["destination_country"] == "does not apply to a domestic vacancy"
    assert errors["max_age"] == "must not be below the minimum age (14)"


async def test_a_demand_letter_missing_its_terms_names_them_all_with_the_right_article(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    employer = await new_employer(matching_client, migrated)
    body = overseas_body(agency["id"], employer_id=employer["id"], max_age=17)
    for field in ("foreign_employer", "demand_letter_ref", "channel"):
        del body[field]
    response = await matching_client.post("/v1/vacancies", json=body, headers=officer(migrated))

    errors = named(response)
    assert errors == {
        "foreign_employer": "is required for an overseas vacancy",
        "demand_letter_ref": "is required for an overseas vacancy",
        "channel": "is required for an overseas vacancy",
        "employer_id": "does not apply to an overseas vacancy",
        "max_age": "must not be below the minimum age (18)",
    }


async def test_fees_charged_to_the_worker_are_refused_with_the_other_bad_fields(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated)
    body = domestic_body(
        employer["id"],
        district=None,
        worker_fees=[{"item": "placement fee", "amount": "500000", "currency": "LAK"}],
    )
    response = await matching_client.post("/v1/vacancies", json=body, headers=officer(migrated))

    assert response.status_code == 422
    assert response.json()["type"].endswith("/worker-fees-not-allowed")
    assert [e["field"] for e in response.json()["errors"]] == ["worker_fees", "district"]


async def test_every_bad_change_to_a_draft_is_named_in_one_answer(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    draft = await domestic_draft(matching_client, migrated)
    response = await matching_client.patch(
        f"/v1/vacancies/{draft['id']}",
        json={
            "title": None,
            "district": None,
            "min_age": 14,
            "closes_on": (TODAY - timedelta(days=3)).isoformat(),
            "employer_id": str(uuid.uuid4()),
        },
        headers=officer(migrated),
    )

    assert list(named(response)) == ["title", "district", "min_age", "closes_on", "employer_id"]
    row = await fetch(
        migrated, "matching", "SELECT version FROM vacancies WHERE id = $1", uuid.UUID(draft["id"])
    )
    assert row[0]["version"] == 1


async def test_an_overseas_vacancy_needs_an_agency_licensed_for_its_destination(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    headers = officer(migrated)
    draft = await new_vacancy(matching_client, headers, overseas_body(agency["id"]))
    assert (draft["min_age"], draft["kind"], draft["channel"]) == (18, "overseas", "mou")
    keys = await fetchval(
        migrated,
        "matching",
        "SELECT match_keys FROM vacancies WHERE id = $1",
        uuid.UUID(draft["id"]),
    )
    assert "d:TH" in keys
    assert "d:*" in keys
    assert "p:LA-VT" not in keys

    japan = await matching_client.post(
        "/v1/vacancies", json=overseas_body(agency["id"], destination_country="JP"), headers=headers
    )
    assert japan.status_code == 409
    assert (japan.json()["rule"], japan.json()["field"]) == (
        "licensed_destination",
        "destination_country",
    )
    for field in ("foreign_employer", "demand_letter_ref", "channel", "destination_country"):
        missing = await matching_client.post(
            "/v1/vacancies", json=overseas_body(agency["id"], **{field: None}), headers=headers
        )
        assert missing.status_code == 422, field
        assert missing.json()["errors"][0]["field"] == field
    too_young = await matching_client.post(
        "/v1/vacancies", json=overseas_body(agency["id"], min_age=17), headers=headers
    )
    assert (too_young.status_code, too_young.json()["errors"][0]["field"]) == (422, "min_age")

    suspended = await new_agency(matching_client, migrated)
    await matching_client.post(
        f"/v1/agencies/{suspended['id']}/status",
        json={"status": "suspended", "reason": "inspection"},
        headers=supervisor(migrated),
    )
    refused = await matching_client.post(
        "/v1/vacancies", json=overseas_body(suspended["id"]), headers=headers
    )
    assert refused.status_code == 409
    assert (refused.json()["rule"], refused.json()["agency_status"]) == (
        "agency_active",
        "suspended",
    )


async def test_an_agency_records_demand_letters_only_for_itself(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    mine = await new_agency(matching_client, migrated)
    other = await new_agency(matching_client, migrated)
    headers = agent(migrated, mine)
    body = overseas_body(mine["id"])
    del body["agency_id"]
    draft = await new_vacancy(matching_client, headers, body)
    assert draft["agency_id"] == mine["id"]
    assert draft["office_code"] is None
    for_other = await matching_client.post(
        "/v1/vacancies", json=overseas_body(other["id"]), headers=headers
    )
    assert for_other.status_code == 403
    employer = await new_employer(matching_client, migrated)
    domestic = await matching_client.post(
        "/v1/vacancies", json=domestic_body(employer["id"]), headers=headers
    )
    assert domestic.status_code == 403
    by_analyst = await matching_client.post(
        "/v1/vacancies", json=domestic_body(employer["id"]), headers=analyst(migrated)
    )
    assert by_analyst.status_code == 403


async def test_a_retried_creation_makes_one_vacancy(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    body = overseas_body(agency["id"])
    headers = agent(migrated, agency) | {"Idempotency-Key": str(uuid.uuid4())}
    first = await matching_client.post("/v1/vacancies", json=body, headers=headers)
    retry = await matching_client.post("/v1/vacancies", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert retry.content == first.content  # the same bytes, fields in the same order
    count = await fetchval(
        migrated,
        "matching",
        "SELECT count(*) FROM vacancies WHERE demand_letter_ref = $1",
        body["demand_letter_ref"],
    )
    assert count == 1
    assert len(await events(migrated, first.json()["id"], VACANCY_CHANGED)) == 1


# -- who sees a vacancy ----------------------------------------------------------------------


async def test_officers_of_another_province_cannot_see_a_vacancy(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    vacancy = await domestic_draft(matching_client, migrated, province="LA-CH")
    url = f"/v1/vacancies/{vacancy['id']}"
    assert (await matching_client.get(url, headers=officer(migrated, "LA-CH"))).status_code == 200
    assert (await matching_client.get(url, headers=analyst(migrated))).status_code == 200
    elsewhere = await matching_client.get(url, headers=officer(migrated, "LA-VT"))
    assert elsewhere.status_code == 403
    listed = await matching_client.get(
        "/v1/vacancies", params={"employer_id": vacancy["employer_id"]}, headers=officer(migrated)
    )
    assert listed.json()["items"] == []
    changed = await matching_client.post(
        f"{url}/status", json={"status": "published"}, headers=officer(migrated, "LA-VT")
    )
    assert changed.status_code == 403
    # Nor record one there.
    employer = await new_employer(matching_client, migrated)
    there = await matching_client.post(
        "/v1/vacancies",
        json=domestic_body(employer["id"], province_code="LA-CH"),
        headers=officer(migrated, "LA-VT"),
    )
    assert there.status_code == 403


async def test_an_agency_sees_only_its_own_vacancies(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    mine = await new_agency(matching_client, migrated)
    other = await new_agency(matching_client, migrated)
    own = await new_vacancy(matching_client, agent(migrated, mine), overseas_body(mine["id"]))
    theirs = await new_vacancy(matching_client, agent(migrated, other), overseas_body(other["id"]))
    headers = agent(migrated, mine)
    listed = await matching_client.get("/v1/vacancies", headers=headers)
    assert [v["id"] for v in listed.json()["items"]] == [own["id"]]
    asked = await matching_client.get(
        "/v1/vacancies", params={"agency_id": other["id"]}, headers=headers
    )
    assert asked.json()["items"] == []
    response = await matching_client.get(f"/v1/vacancies/{theirs['id']}", headers=headers)
    assert response.status_code == 403
    domestic = await domestic_draft(matching_client, migrated)
    assert (
        await matching_client.get(f"/v1/vacancies/{domestic['id']}", headers=headers)
    ).status_code == 403


async def test_vacancies_are_listed_by_filter_newest_first_a_page_at_a_time(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    employer = await new_employer(matching_client, migrated, province_code="LA-XA")
    headers = officer(migrated, "LA-XA")
    made = [
        await new_vacancy(
            matching_client,
            headers,
            domestic_body(employer["id"], province_code="LA-XA", isco08=code),
        )
        for code in ("9211", "9212", "7112")
    ]
    await set_status(matching_client, headers, made[0], "published")
    base = {"employer_id": employer["id"], "kind": "domestic"}
    farm = await matching_client.get(
        "/v1/vacancies", params=base | {"isco08": "921", "limit": 1}, headers=headers
    )
    assert farm.status_code == 200, farm.text
    assert [v["id"] for v in farm.json()["items"]] == [made[1]["id"]]
    following = await matching_client.get(
        "/v1/vacancies",
        params=base | {"isco08": "921", "limit": 1, "cursor": farm.json()["next_cursor"]},
        headers=headers,
    )
    assert [v["id"] for v in following.json()["items"]] == [made[0]["id"]]
    assert following.json()["next_cursor"] is None
    published = await matching_client.get(
        "/v1/vacancies", params=base | {"status": "published"}, headers=headers
    )
    assert [v["id"] for v in published.json()["items"]] == [made[0]["id"]]
    bad = await matching_client.get("/v1/vacancies", params={"isco08": "7x"}, headers=headers)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "isco08")


# -- lifecycle -------------------------------------------------------------------------------


async def test_an_officer_approves_a_demand_letter_and_every_change_is_announced(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    draft = await new_vacancy(matching_client, agent(migrated, agency), overseas_body(agency["id"]))
    url = f"/v1/vacancies/{draft['id']}/status"
    by_agent = await matching_client.post(
        url, json={"status": "published"}, headers=agent(migrated, agency)
    )
    assert by_agent.status_code == 403
    published = await set_status(matching_client, officer(migrated), draft, "published")
    assert published["status"] == "published"
    assert published["published_at"] is not None
    again = await matching_client.post(url, json={"status": "draft"}, headers=officer(migrated))
    assert again.status_code == 409
    assert again.json()["current_status"] == "published"
    assert again.json()["allowed"] == ["closed", "filled"]
    closed = await matching_client.post(
        url,
        json={"status": "closed", "reason": "the employer cancelled the order"},
        headers=agent(migrated, agency),
    )
    assert closed.status_code == 200
    final = await matching_client.post(url, json={"status": "published"}, headers=officer(migrated))
    assert (final.status_code, final.json()["allowed"]) == (409, [])

    announced = await events(migrated, draft["id"], VACANCY_CHANGED)
    assert [(e["status"], e.get("previous_status")) for e in announced] == [
        ("draft", None),
        ("published", "draft"),
        ("closed", "published"),
    ]
    assert announced[-1]["reason"] == "the employer cancelled the order"
    assert {e["agency_code"] for e in announced} == {agency["code"]}
    assert {e["destination_country"] for e in announced} == {"TH"}
    assert all(e["overseas"] for e in announced)


async def test_a_draft_is_closed_and_a_published_vacancy_is_filled_by_hand(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    draft = await domestic_draft(matching_client, migrated)
    closed = await set_status(matching_client, officer(migrated), draft, "closed")
    assert closed["status"] == "closed"
    other = await domestic_draft(matching_client, migrated)
    await set_status(matching_client, officer(migrated), other, "published")
    filled = await set_status(matching_client, officer(migrated), other, "filled")
    assert (filled["status"], filled["open_positions"]) == ("filled", 0)
    by_analyst = await matching_client.post(
        f"/v1/vacancies/{other['id']}/status", json={"status": "closed"}, headers=analyst(migrated)
    )
    assert by_analyst.status_code == 403


async def test_publishing_a_demand_letter_checks_the_agency_licence_again(
    matching_client: httpx.AsyncClient, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = await new_agency(matching_client, migrated, licence_expires_on=TODAY.isoformat())
    draft = await new_vacancy(matching_client, agent(migrated, agency), overseas_body(agency["id"]))
    travel(monkeypatch, TODAY + timedelta(days=1))
    refused = await matching_client.post(
        f"/v1/vacancies/{draft['id']}/status",
        json={"status": "published"},
        headers=officer(migrated),
    )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "licence_valid"
    assert (await vacancy_row(migrated, draft))["status"] == "draft"


async def test_a_paused_vacancy_is_not_republished_by_hand(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency)
    await matching_client.post(
        f"/v1/agencies/{agency['id']}/status",
        json={"status": "suspended", "reason": "inspection"},
        headers=supervisor(migrated),
    )
    again = await matching_client.post(
        f"/v1/vacancies/{vacancy['id']}/status",
        json={"status": "published"},
        headers=officer(migrated),
    )
    assert again.status_code == 409
    assert (again.json()["current_status"], again.json()["allowed"]) == (
        "paused",
        ["closed", "filled"],
    )
    assert [e["status"] for e in await events(migrated, agency["id"], AGENCY_CHANGED)] == [
        "active",
        "suspended",
    ]


# -- changes ---------------------------------------------------------------------------------


async def test_a_draft_is_changed_against_the_version_read(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    draft = await domestic_draft(matching_client, migrated)
    url = f"/v1/vacancies/{draft['id']}"
    read = await matching_client.get(url, headers=officer(migrated))
    changed = await matching_client.patch(
        url,
        json={"isco08": "7531", "required_skills": ["Tailoring", "tailoring"], "positions": 2},
        headers=officer(migrated) | {"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    body = changed.json()
    assert (body["isco08"], body["required_skills"]) == ("7531", ["tailoring"])
    assert (body["positions"], body["open_positions"]) == (2, 2)
    keys = await fetchval(
        migrated,
        "matching",
        "SELECT match_keys FROM vacancies WHERE id = $1",
        uuid.UUID(draft["id"]),
    )
    assert "o4:7531" in keys
    assert "o4:8153" not in keys
    stale = await matching_client.patch(
        url,
        json={"title": "Tailor"},
        headers=officer(migrated) | {"If-Match": read.headers["ETag"]},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    removed = await matching_client.patch(url, json={"title": None}, headers=officer(migrated))
    assert (removed.status_code, removed.json()["errors"][0]["field"]) == (422, "title")
    kind = await matching_client.patch(url, json={"kind": "overseas"}, headers=officer(migrated))
    assert kind.status_code == 422


async def test_once_published_only_the_description_closing_date_and_more_positions_change(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    draft = await domestic_draft(matching_client, migrated, positions=3)
    await set_status(matching_client, officer(migrated), draft, "published")
    async with sessions() as session, session.begin():
        vacancy = await session.get(Vacancy, uuid.UUID(draft["id"]))
        assert vacancy is not None
        await take_position(session, vacancy, changed_by="officer-vt-1")
    url = f"/v1/vacancies/{draft['id']}"
    frozen = await matching_client.patch(url, json={"wage_amount": "1"}, headers=officer(migrated))
    assert frozen.status_code == 409
    assert (frozen.json()["field"], frozen.json()["current_status"]) == ("wage_amount", "published")
    both = await matching_client.patch(
        url, json={"wage_amount": "1", "title": "Cutter"}, headers=officer(migrated)
    )
    assert (both.status_code, both.json()["fields"]) == (409, ["title", "wage_amount"])
    fewer = await matching_client.patch(url, json={"positions": 2}, headers=officer(migrated))
    assert (fewer.status_code, fewer.json()["errors"][0]["field"]) == (422, "positions")
    more = await matching_client.patch(
        url,
        json={"positions": 5, "closes_on": (TODAY + timedelta(days=90)).isoformat()},
        headers=officer(migrated),
    )
    assert more.status_code == 200, more.text
    assert (more.json()["positions"], more.json()["open_positions"]) == (5, 4)
    updated = (await events(migrated, draft["id"], VACANCY_CHANGED))[-1]
    assert (updated["status"], updated["previous_status"]) == ("published", "published")
    assert (updated["positions"], updated["open_positions"]) == (5, 4)
    assert updated["reason"] == "changed: closes_on, positions"


async def test_taking_the_last_open_position_fills_the_vacancy(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    draft = await domestic_draft(matching_client, migrated, positions=2)
    await set_status(matching_client, officer(migrated), draft, "published")
    vacancy_id = uuid.UUID(draft["id"])

    async def take_one() -> None:
        async with sessions() as session, session.begin():
            vacancy = await session.get(Vacancy, vacancy_id)
            assert vacancy is not None
            await take_position(session, vacancy, changed_by="officer-vt-1")

    for _ in range(2):
        await take_one()
    row = await vacancy_row(migrated, draft)
    assert row["status"] == "filled"
    [filled] = [
        e for e in await events(migrated, draft["id"], VACANCY_CHANGED) if e["status"] == "filled"
    ]
    assert (filled["previous_status"], filled["open_positions"]) == ("published", 0)
    with pytest.raises(NoOpenPosition):
        await take_one()


async def test_concurrent_placements_take_each_position_once(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    draft = await domestic_draft(matching_client, migrated, positions=3)
    await set_status(matching_client, officer(migrated), draft, "published")

    async def place() -> bool:
        try:
            async with sessions() as session, session.begin():
                vacancy = await session.get(Vacancy, uuid.UUID(draft["id"]))
                assert vacancy is not None
                await take_position(session, vacancy, changed_by="officer-vt-1")
        except NoOpenPosition:
            return False
        return True

    placed = await asyncio.gather(*(place() for _ in range(5)))
    assert sorted(placed) == [False, False, True, True, True]
    row = await fetch(
        migrated,
        "matching",
        "SELECT status, open_positions FROM vacancies WHERE id = $1",
        uuid.UUID(draft["id"]),
    )
    assert (row[0]["status"], row[0]["open_positions"]) == ("filled", 0)


# -- expiry on the closing date --------------------------------------------------------------


async def test_vacancies_expire_after_their_closing_date_once(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    draft = await domestic_draft(matching_client, migrated, closes_on=TODAY.isoformat())
    await set_status(matching_client, officer(migrated), draft, "published")
    still_draft = await domestic_draft(matching_client, migrated, closes_on=TODAY.isoformat())
    await run_once(VACANCY_EXPIRY, migrated, sessions, today=TODAY)
    assert (await vacancy_row(migrated, draft))["status"] == "published"

    tomorrow = TODAY + timedelta(days=1)
    await asyncio.gather(
        *(run_once(VACANCY_EXPIRY, migrated, sessions, today=tomorrow) for _ in range(3))
    )
    await run_once(VACANCY_EXPIRY, migrated, sessions, today=tomorrow)
    assert (await vacancy_row(migrated, draft))["status"] == "expired"
    assert (await vacancy_row(migrated, still_draft))["status"] == "draft"
    announced = await events(migrated, draft["id"], VACANCY_CHANGED)
    assert [(e["status"], e.get("previous_status")) for e in announced] == [
        ("draft", None),
        ("published", "draft"),
        ("expired", "published"),
    ]
    assert announced[-1]["changed_by"] == "system"


async def test_an_unknown_vacancy_is_not_found(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await matching_client.get(f"/v1/vacancies/{uuid.uuid4()}", headers=officer(migrated))
    assert response.status_code == 404
