"""Recruitment agencies under the ministry's supervision: licences, suspension, revocation,
renewal and expiry on its date, each announced and followed by the agency's vacancies."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.matching.app import SPEC
from shared import clock
from shared.db import create_engine, session_factory
from shared.events.matching import AgencyStatusChanged, VacancyStatusChanged
from shared.jobs import run_once
from tests.matching.test_employers import analyst, officer, supervisor
from tests.support import bearer, fetch, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

AGENCY_CHANGED = AgencyStatusChanged.event_type()
VACANCY_CHANGED = VacancyStatusChanged.event_type()
[LICENCE_EXPIRY] = [job for job in SPEC.jobs if job.name == "licence-expiry"]
TODAY = clock.today()


def agency_body(**overrides: Any) -> dict[str, Any]:
    """A licensed agency no other test registers (code and licence number are unique)."""
    tag = uuid.uuid4().hex[:8].upper()
    body: dict[str, Any] = {
        "code": f"AG-{tag}",
        "name": f"Lao Manpower {tag} Co., Ltd",
        "licence_number": f"MOLSW-{tag}",
        "licence_issued_on": (TODAY - timedelta(days=365)).isoformat(),
        "licence_expires_on": (TODAY + timedelta(days=730)).isoformat(),
        "destinations": ["th", "KR"],
        "province_code": "LA-VT",
        "contact_phone": "021 212 345",
    }
    return body | overrides


async def new_agency(
    client: httpx.AsyncClient, settings: Settings, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/agencies", json=agency_body(**overrides), headers=supervisor(settings)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def agent(settings: Settings, agency: dict[str, Any]) -> dict[str, str]:
    """A staff member of the agency, acting for it."""
    return bearer(settings, f"agent-{agency['code'].lower()}", ["agency"], agency=agency["code"])


def overseas_body(agency_id: str, **overrides: Any) -> dict[str, Any]:
    """A demand letter for Thailand, recruited in Vientiane Capital, charging the worker nothing."""
    body: dict[str, Any] = {
        "kind": "overseas",
        "title": "Sewing machine operator",
        "isco08": "8153",
        "agency_id": agency_id,
        "destination_country": "TH",
        "foreign_employer": "Siam Garments Co., Ltd",
        "demand_letter_ref": f"DL-{uuid.uuid4().hex[:8]}",
        "channel": "mou",
        "province_code": "LA-VT",
        "required_skills": ["Sewing", "sewing ", "Quality control"],
        "positions": 3,
        "wage_amount": "12000",
        "wage_currency": "THB",
        "wage_period": "month",
        "contract_months": 24,
        "closes_on": (TODAY + timedelta(days=60)).isoformat(),
        "worker_fees": [
            {"item": "visa", "amount": "0", "currency": "THB"},
            {"item": "medical check", "amount": "0", "currency": "LAK"},
        ],
    }
    return body | overrides


async def new_vacancy(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/vacancies", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_status(
    client: httpx.AsyncClient, headers: dict[str, str], vacancy: dict[str, Any], status: str
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/vacancies/{vacancy['id']}/status", json={"status": status}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def published_overseas(
    client: httpx.AsyncClient, settings: Settings, agency: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """A demand letter the agency recorded and a Vientiane officer published."""
    draft = await new_vacancy(
        client, agent(settings, agency), overseas_body(agency["id"], **overrides)
    )
    return await set_status(client, officer(settings), draft, "published")


async def events(settings: Settings, key: str, event_type: str) -> list[dict[str, Any]]:
    """The data of the events staged for one aggregate, oldest first."""
    rows = await fetch(
        settings,
        "matching",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        key,
        event_type,
    )
    return [json.loads(row["value"])["data"] for row in rows]


async def vacancy_row(settings: Settings, vacancy: dict[str, Any]) -> dict[str, Any]:
    [row] = await fetch(
        settings,
        "matching",
        "SELECT status, status_reason, version FROM vacancies WHERE id = $1",
        uuid.UUID(vacancy["id"]),
    )
    return dict(row)


def travel(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Make the API's 'today' (Lao time) `day`."""
    monkeypatch.setattr(clock, "today", lambda: day)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "matching")
    yield session_factory(engine)
    await engine.dispose()


# -- licensing -------------------------------------------------------------------------------


async def test_a_supervisor_licenses_an_agency_and_it_is_announced(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = agency_body()
    agency = await new_agency(matching_client, migrated, **body)
    assert agency["code"] == body["code"]
    assert agency["destinations"] == ["TH", "KR"]
    assert agency["contact_phone"] == "+85621212345"
    assert (agency["status"], agency["recorded_status"]) == ("active", "active")
    assert (agency["open_complaints"], agency["complaints_total"]) == (0, 0)
    assert agency["worker_paid_costs"] == 0
    [licensed] = agency["history"]
    assert (licensed["status"], licensed["previous_status"]) == ("active", None)
    assert licensed["changed_by"] == "supervisor-1"

    [announced] = await events(migrated, agency["id"], AGENCY_CHANGED)
    assert announced["status"] == "active"
    assert announced.get("previous_status") is None
    assert announced["agency_code"] == body["code"]
    assert announced["licence_expires_on"] == body["licence_expires_on"]
    assert announced["destinations"] == ["TH", "KR"]


async def test_only_supervisors_license_agencies(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for headers in (officer(migrated), analyst(migrated)):
        response = await matching_client.post("/v1/agencies", json=agency_body(), headers=headers)
        assert response.status_code == 403


async def test_an_agency_code_or_licence_number_is_registered_once(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    first = await new_agency(matching_client, migrated)
    for field in ("code", "licence_number"):
        again = await matching_client.post(
            "/v1/agencies",
            json=agency_body(**{field: first[field].lower()}),
            headers=supervisor(migrated),
        )
        assert again.status_code == 409, again.text
        assert again.json()["field"] == field


async def test_licence_dates_and_destinations_are_checked_naming_the_field(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    cases = [
        ({"licence_expires_on": agency_body()["licence_issued_on"]}, "licence_expires_on"),
        ({"licence_expires_on": (TODAY - timedelta(days=1)).isoformat()}, "licence_expires_on"),
        ({"destinations": []}, "destinations"),
        ({"destinations": ["TH", "XX"]}, "destinations.1"),
        ({"province_code": "TH-10"}, "province_code"),
    ]
    for overrides, field in cases:
        response = await matching_client.post(
            "/v1/agencies", json=agency_body(**overrides), headers=supervisor(migrated)
        )
        assert response.status_code == 422, (overrides, response.text)
        assert response.json()["errors"][0]["field"] == field


async def test_every_bad_licence_date_and_decision_field_is_named_in_one_answer(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    dates = await matching_client.post(
        "/v1/agencies",
        json=agency_body(
            licence_issued_on=(TODAY + timedelta(days=10)).isoformat(),
            licence_expires_on=(TODAY + timedelta(days=5)).isoformat(),
        ),
        headers=supervisor(migrated),
    )
    agency = await new_agency(matching_client, migrated)
    decision = await _decide(
        matching_client,
        migrated,
        agency,
        status="suspended",
        effective_on=(TODAY + timedelta(days=1)).isoformat(),
    )

    assert dates.status_code == 422
    assert [e["field"] for e in dates.json()["errors"]] == [
        "licence_expires_on",
        "licence_issued_on",
    ]
    assert decision.status_code == 422
    assert [e["field"] for e in decision.json()["errors"]] == ["reason", "effective_on"]


# -- who sees agencies -----------------------------------------------------------------------


async def test_an_agency_sees_only_itself(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    mine = await new_agency(matching_client, migrated)
    other = await new_agency(matching_client, migrated)
    headers = agent(migrated, mine)
    assert (
        await matching_client.get(f"/v1/agencies/{mine['id']}", headers=headers)
    ).status_code == 200
    assert (
        await matching_client.get(f"/v1/agencies/{other['id']}", headers=headers)
    ).status_code == 403
    listed = await matching_client.get("/v1/agencies", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [mine["id"]]
    complaints = await matching_client.get(f"/v1/agencies/{mine['id']}/complaints", headers=headers)
    assert complaints.status_code == 403


async def test_officers_and_analysts_see_every_agency(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated, province_code="LA-SV")
    for headers in (officer(migrated, "LA-CH"), analyst(migrated)):
        response = await matching_client.get(f"/v1/agencies/{agency['id']}", headers=headers)
        assert response.status_code == 200
    listed = await matching_client.get(
        "/v1/agencies", params={"q": agency["name"][12:20]}, headers=officer(migrated)
    )
    assert [a["id"] for a in listed.json()["items"]] == [agency["id"]]


async def test_the_agency_shows_as_expired_from_the_day_after_its_licence_ends(
    matching_client: httpx.AsyncClient, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = await new_agency(matching_client, migrated, licence_expires_on=TODAY.isoformat())
    url = f"/v1/agencies/{agency['id']}"
    assert (await matching_client.get(url, headers=supervisor(migrated))).json()[
        "status"
    ] == "active"
    travel(monkeypatch, TODAY + timedelta(days=1))
    read = (await matching_client.get(url, headers=supervisor(migrated))).json()
    assert (read["status"], read["recorded_status"]) == ("expired", "active")
    expired = await matching_client.get(
        "/v1/agencies",
        params={"status": "expired", "q": agency["name"]},
        headers=supervisor(migrated),
    )
    assert [a["id"] for a in expired.json()["items"]] == [agency["id"]]


# -- supervision decisions -------------------------------------------------------------------


async def _decide(
    client: httpx.AsyncClient, settings: Settings, agency: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/agencies/{agency['id']}/status", json=body, headers=supervisor(settings)
    )


async def test_suspending_an_agency_pauses_its_published_vacancies_and_reinstating_resumes_them(
    matching_client: httpx.AsyncClient, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = await new_agency(matching_client, migrated)
    published = await published_overseas(matching_client, migrated, agency)
    closing_today = await published_overseas(
        matching_client, migrated, agency, closes_on=TODAY.isoformat()
    )
    draft = await new_vacancy(matching_client, agent(migrated, agency), overseas_body(agency["id"]))

    suspended = await _decide(
        matching_client, migrated, agency, status="suspended", reason="fees charged to workers"
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    for vacancy in (published, closing_today):
        row = await vacancy_row(migrated, vacancy)
        assert row["status"] == "paused"
        assert row["status_reason"] == "agency suspended: fees charged to workers"
        paused = (await events(migrated, vacancy["id"], VACANCY_CHANGED))[-1]
        assert (paused["status"], paused["previous_status"]) == ("paused", "published")
        assert paused["agency_code"] == agency["code"]
    assert (await vacancy_row(migrated, draft))["status"] == "draft"
    announced = (await events(migrated, agency["id"], AGENCY_CHANGED))[-1]
    assert (announced["status"], announced["previous_status"]) == ("suspended", "active")
    assert announced["reason"] == "fees charged to workers"

    # While suspended its demand letters are not published.
    refused = await matching_client.post(
        f"/v1/vacancies/{draft['id']}/status",
        json={"status": "published"},
        headers=officer(migrated),
    )
    assert refused.status_code == 409
    assert (refused.json()["rule"], refused.json()["field"]) == ("agency_active", "agency_id")

    # Reinstated the next day: the vacancy closing yesterday stays paused (it expires).
    travel(monkeypatch, TODAY + timedelta(days=1))
    reinstated = await _decide(matching_client, migrated, agency, status="active")
    assert reinstated.status_code == 200, reinstated.text
    body = reinstated.json()
    assert body["status"] == "active"
    assert [h["status"] for h in body["history"]] == ["active", "suspended", "active"]
    assert await vacancy_row(migrated, published) == {
        "status": "published",
        "status_reason": "agency reinstated",
        "version": 4,
    }
    assert (await vacancy_row(migrated, closing_today))["status"] == "paused"
    resumed = (await events(migrated, published["id"], VACANCY_CHANGED))[-1]
    assert (resumed["status"], resumed["previous_status"]) == ("published", "paused")


async def test_a_suspension_needs_a_reason_and_a_revocation_is_final(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(matching_client, migrated, agency)
    no_reason = await _decide(matching_client, migrated, agency, status="suspended")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert (await vacancy_row(migrated, vacancy))["status"] == "published"

    revoked = await _decide(
        matching_client, migrated, agency, status="revoked", reason="passports withheld"
    )
    assert revoked.status_code == 200
    assert (await vacancy_row(migrated, vacancy))["status_reason"] == (
        "agency licence revoked: passports withheld"
    )
    for status in ("active", "suspended"):
        again = await _decide(matching_client, migrated, agency, status=status, reason="x")
        assert again.status_code == 409
        assert (again.json()["current_status"], again.json()["allowed"]) == ("revoked", [])
    renewal = await matching_client.post(
        f"/v1/agencies/{agency['id']}/licence",
        json={"licence_expires_on": (TODAY + timedelta(days=900)).isoformat()},
        headers=supervisor(migrated),
    )
    assert renewal.status_code == 409
    assert (await vacancy_row(migrated, vacancy))["status"] == "paused"


async def test_only_supervisors_decide_on_an_agency(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    for headers in (officer(migrated), agent(migrated, agency)):
        response = await matching_client.post(
            f"/v1/agencies/{agency['id']}/status",
            json={"status": "suspended", "reason": "x"},
            headers=headers,
        )
        assert response.status_code == 403


async def test_an_agency_whose_licence_expired_is_not_reinstated_until_renewed(
    matching_client: httpx.AsyncClient, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = await new_agency(matching_client, migrated, licence_expires_on=TODAY.isoformat())
    vacancy = await published_overseas(matching_client, migrated, agency)
    assert (
        await _decide(matching_client, migrated, agency, status="suspended", reason="inspection")
    ).status_code == 200
    travel(monkeypatch, TODAY + timedelta(days=1))
    refused = await _decide(matching_client, migrated, agency, status="active")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "licence_valid"
    assert (await vacancy_row(migrated, vacancy))["status"] == "paused"

    renewed = await matching_client.post(
        f"/v1/agencies/{agency['id']}/licence",
        json={"licence_expires_on": (TODAY + timedelta(days=731)).isoformat()},
        headers=supervisor(migrated),
    )
    assert renewed.status_code == 200, renewed.text
    # Renewal does not lift a suspension.
    assert renewed.json()["status"] == "suspended"
    assert (await vacancy_row(migrated, vacancy))["status"] == "paused"
    assert (await _decide(matching_client, migrated, agency, status="active")).status_code == 200
    assert (await vacancy_row(migrated, vacancy))["status"] == "published"


# -- expiry on its date ----------------------------------------------------------------------


async def test_an_expired_licence_pauses_vacancies_on_its_date(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agency = await new_agency(matching_client, migrated, licence_expires_on=TODAY.isoformat())
    vacancy = await published_overseas(matching_client, migrated, agency)
    await run_once(LICENCE_EXPIRY, migrated, sessions, today=TODAY)
    assert len(await events(migrated, agency["id"], AGENCY_CHANGED)) == 1
    assert (await vacancy_row(migrated, vacancy))["status"] == "published"

    tomorrow = TODAY + timedelta(days=1)
    assert await run_once(LICENCE_EXPIRY, migrated, sessions, today=tomorrow) >= 1
    expired = (await events(migrated, agency["id"], AGENCY_CHANGED))[-1]
    assert (expired["status"], expired["previous_status"]) == ("expired", "active")
    assert expired["effective_on"] == tomorrow.isoformat()
    assert expired["changed_by"] == "system"
    row = await vacancy_row(migrated, vacancy)
    assert row["status"] == "paused"
    assert row["status_reason"].startswith("agency licence expired")
    applied = await fetchval(
        migrated,
        "matching",
        "SELECT expiry_applied_on FROM agencies WHERE id = $1",
        uuid.UUID(agency["id"]),
    )
    assert applied == tomorrow

    # A second pass does nothing more.
    await run_once(LICENCE_EXPIRY, migrated, sessions, today=tomorrow)
    assert len(await events(migrated, agency["id"], AGENCY_CHANGED)) == 2
    assert len(await events(migrated, vacancy["id"], VACANCY_CHANGED)) == 3

    # Renewed: announced as active again, and the vacancies its expiry paused resume.
    travel(monkeypatch, tomorrow)
    renewed = await matching_client.post(
        f"/v1/agencies/{agency['id']}/licence",
        json={
            "licence_expires_on": (TODAY + timedelta(days=730)).isoformat(),
            "licence_number": f"MOLSW-R-{uuid.uuid4().hex[:6]}",
            "destinations": ["TH", "JP"],
        },
        headers=supervisor(migrated),
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["status"] == "active"
    assert renewed.json()["destinations"] == ["TH", "JP"]
    announced = (await events(migrated, agency["id"], AGENCY_CHANGED))[-1]
    assert (announced["status"], announced["previous_status"]) == ("active", "expired")
    assert announced["reason"] == "licence renewed"
    assert await vacancy_row(migrated, vacancy) == {
        "status": "published",
        "status_reason": "licence renewed",
        "version": 4,
    }


async def test_concurrent_expiry_passes_expire_an_agency_once(
    matching_client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agency = await new_agency(matching_client, migrated, licence_expires_on=TODAY.isoformat())
    vacancy = await published_overseas(matching_client, migrated, agency)
    tomorrow = TODAY + timedelta(days=1)
    await asyncio.gather(
        *(run_once(LICENCE_EXPIRY, migrated, sessions, today=tomorrow) for _ in range(4))
    )
    assert [e["status"] for e in await events(migrated, agency["id"], AGENCY_CHANGED)] == [
        "active",
        "expired",
    ]
    assert [e["status"] for e in await events(migrated, vacancy["id"], VACANCY_CHANGED)] == [
        "draft",
        "published",
        "paused",
    ]


# -- complaints ------------------------------------------------------------------------------


async def test_complaints_are_taken_by_officers_and_decided_by_supervisors(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    url = f"/v1/agencies/{agency['id']}/complaints"
    filed = await matching_client.post(
        url,
        json={
            "category": "passport_withheld",
            "received_on": TODAY.isoformat(),
            "description": "The agency kept my passport after the medical check",
            "person_id": str(uuid.uuid4()),
        },
        headers=officer(migrated, "LA-SV") | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert filed.status_code == 201, filed.text
    complaint = filed.json()
    assert (complaint["status"], complaint["office_code"]) == ("open", "ESC-SV")
    await matching_client.post(
        url,
        json={"category": "fees_charged", "received_on": TODAY.isoformat(), "description": "fee"},
        headers=officer(migrated),
    )
    bad = await matching_client.post(
        url,
        json={"category": "rudeness", "received_on": TODAY.isoformat(), "description": "x y z"},
        headers=officer(migrated),
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "category")
    future = await matching_client.post(
        url,
        json={
            "category": "other",
            "received_on": (TODAY + timedelta(days=2)).isoformat(),
            "description": "from the future",
        },
        headers=officer(migrated),
    )
    assert (future.status_code, future.json()["errors"][0]["field"]) == (422, "received_on")
    by_analyst = await matching_client.post(
        url,
        json={"category": "other", "received_on": TODAY.isoformat(), "description": "read"},
        headers=analyst(migrated),
    )
    assert by_analyst.status_code == 403

    status_url = f"{url}/{complaint['id']}/status"
    assert (
        await matching_client.post(
            status_url, json={"status": "investigating"}, headers=officer(migrated)
        )
    ).status_code == 403
    investigating = await matching_client.post(
        status_url, json={"status": "investigating"}, headers=supervisor(migrated)
    )
    assert investigating.json()["status"] == "investigating"
    no_outcome = await matching_client.post(
        status_url, json={"status": "upheld"}, headers=supervisor(migrated)
    )
    assert (no_outcome.status_code, no_outcome.json()["errors"][0]["field"]) == (422, "outcome")
    upheld = await matching_client.post(
        status_url,
        json={"status": "upheld", "outcome": "passport returned; agency warned"},
        headers=supervisor(migrated),
    )
    assert upheld.json()["outcome"] == "passport returned; agency warned"
    reopened = await matching_client.post(
        status_url, json={"status": "investigating"}, headers=supervisor(migrated)
    )
    assert reopened.status_code == 409
    assert reopened.json()["current_status"] == "upheld"

    listed = await matching_client.get(url, headers=supervisor(migrated))
    # Newest first: both arrived today, the fee complaint was recorded last.
    assert [c["category"] for c in listed.json()["items"]] == [
        "fees_charged",
        "passport_withheld",
    ]
    # Complaints stay with supervisors and the office that took them; analysts read counts.
    taken_in_savannakhet = await matching_client.get(url, headers=officer(migrated, "LA-SV"))
    assert [c["category"] for c in taken_in_savannakhet.json()["items"]] == ["passport_withheld"]
    assert (await matching_client.get(url, headers=analyst(migrated))).status_code == 403
    read = (
        await matching_client.get(f"/v1/agencies/{agency['id']}", headers=officer(migrated))
    ).json()
    assert (read["open_complaints"], read["complaints_total"]) == (1, 2)


async def test_a_retried_decision_is_applied_once(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    headers = supervisor(migrated) | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"status": "suspended", "reason": "audit"}
    url = f"/v1/agencies/{agency['id']}/status"
    first = await matching_client.post(url, json=body, headers=headers)
    retry = await matching_client.post(url, json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["Idempotent-Replayed"] == "true"
    count = await fetchval(
        migrated,
        "matching",
        "SELECT count(*) FROM agency_status_changes WHERE agency_id = $1",
        uuid.UUID(agency["id"]),
    )
    assert count == 2
