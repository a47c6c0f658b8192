"""From registration in registry to a placement that changes the person's status there.

Every hop is real: registry's and matching's HTTP APIs, both outbox relays, the broker, and
both consumers, running as their processes would. Nothing is sent to the broker by hand except
the orientation completion that the predeparture service will publish.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.matching.app import SPEC as MATCHING
from services.registry.app import SPEC as REGISTRY
from shared.db import create_engine, session_factory
from shared.events.envelope import envelope_for
from shared.events.predeparture import OrientationCompleted
from shared.outbox.relay import OutboxRelay
from tests.events import publish
from tests.matching.test_agencies import TODAY, agent, new_agency, overseas_body, set_status
from tests.matching.test_employers import new_employer, officer
from tests.matching.test_vacancies import domestic_body
from tests.support import EVENT_TRAVEL_S, bearer, full_registration, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


@pytest.fixture(scope="module")
async def network(migrated: Settings) -> AsyncIterator[None]:
    """Registry and matching relays and consumers, as `labourx relay` and `labourx consume`."""
    stop = asyncio.Event()
    engines = [create_engine(migrated, name) for name in ("registry", "matching")]
    tasks = [
        asyncio.create_task(OutboxRelay(migrated, "registry").run(stop)),
        asyncio.create_task(OutboxRelay(migrated, "matching").run(stop)),
    ]
    for spec, engine in zip((REGISTRY, MATCHING), engines, strict=True):
        runner = spec.consumers[0].runner(migrated, session_factory(engine))
        tasks.append(asyncio.create_task(runner.run(stop)))
    yield
    stop.set()
    await asyncio.gather(*tasks)
    for engine in engines:
        await engine.dispose()


async def registered_with_consent(
    registry: httpx.AsyncClient, auth: dict[str, str], **body: Any
) -> str:
    """A jobseeker registered at the Vientiane ESC who consented to job matching."""
    created = await registry.post("/v1/jobseekers", json=full_registration(**body), headers=auth)
    assert created.status_code == 201, created.text
    person_id = str(created.json()["id"])
    consent = await registry.post(
        f"/v1/people/{person_id}/consents",
        json={"purpose": "job_matching", "status": "given", "method": "signed"},
        headers=auth,
    )
    assert consent.status_code == 201, consent.text
    return person_id


async def known_to_matching(
    matching: httpx.AsyncClient, settings: Settings, person_id: str, **expected: Any
) -> dict[str, Any]:
    """Wait until matching's read model holds the person as a candidate nothing excludes (and
    whose fields have the `expected` values)."""

    async def ready() -> dict[str, Any] | None:
        answer = await matching.get(f"/v1/candidates/{person_id}", headers=officer(settings))
        if answer.status_code != 200 or answer.json()["exclusions"] != []:
            return None
        held = dict(answer.json())
        return held if all(held[k] == v for k, v in expected.items()) else None

    found: dict[str, Any] = await wait_until(ready, timeout_s=EVENT_TRAVEL_S)
    return found


async def jobseeker_status(
    registry: httpx.AsyncClient, auth: dict[str, str], person_id: str, wanted: str
) -> str:
    async def status() -> str | None:
        person = (await registry.get(f"/v1/people/{person_id}", headers=auth)).json()
        return person["jobseeker"]["status"] if person["jobseeker"]["status"] == wanted else None

    found: str = await wait_until(status, timeout_s=EVENT_TRAVEL_S)
    return found


async def step(
    matching: httpx.AsyncClient, settings: Settings, referral_id: str, status: str
) -> None:
    answer = await matching.post(
        f"/v1/referrals/{referral_id}/status", json={"status": status}, headers=officer(settings)
    )
    assert answer.status_code == 200, answer.text


async def test_a_registered_jobseeker_is_matched_referred_and_placed_and_registry_follows(
    network: None,
    registry_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await registered_with_consent(registry_client, auth)
    candidate = await known_to_matching(matching_client, migrated, person_id)
    employer = await new_employer(matching_client, migrated)
    body = domestic_body(employer["id"], isco08="7212", title="Welder", required_skills=["welding"])
    draft = await matching_client.post("/v1/vacancies", json=body, headers=officer(migrated))
    vacancy = await set_status(matching_client, officer(migrated), draft.json(), "published")

    ranked = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/candidates", params={"limit": 100}, headers=auth
    )
    referral = await matching_client.post(
        "/v1/referrals",
        json={"vacancy_id": vacancy["id"], "person_id": person_id},
        headers=officer(migrated),
    )
    referred = await jobseeker_status(registry_client, auth, person_id, "referred")
    await step(matching_client, migrated, referral.json()["id"], "interviewed")
    await step(matching_client, migrated, referral.json()["id"], "offered")
    placed = await matching_client.post(
        f"/v1/referrals/{referral.json()['id']}/placement", json={}, headers=officer(migrated)
    )
    in_registry = await jobseeker_status(registry_client, auth, person_id, "placed")
    ended = await matching_client.post(
        f"/v1/placements/{placed.json()['id']}/end",
        json={"ended_on": TODAY.isoformat(), "reason": "seasonal contract finished"},
        headers=officer(migrated),
    )
    active_again = await jobseeker_status(registry_client, auth, person_id, "active")

    assert candidate["skills"] == ["welding", "driving"]
    assert "ethnicity" not in candidate  # matching never holds it
    assert person_id in [item["person_id"] for item in ranked.json()["items"]]
    assert referral.status_code == 201, referral.text
    assert referred == "referred"
    assert placed.status_code == 201, placed.text
    assert in_registry == "placed"
    assert ended.status_code == 200, ended.text
    assert active_again == "active"


async def test_a_vientiane_jobseeker_is_placed_in_a_savannakhet_job_by_the_office_serving_them(
    network: None,
    registry_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    """The job bank is national: Vientiane's ESC finds, opens and refers to a Savannakhet job;
    Savannakhet's MRC, once the person's visit there links its office (registry's
    PersonServedAt), reads and places them. Issue 14, point 4."""
    person_id = await registered_with_consent(registry_client, auth)
    await known_to_matching(matching_client, migrated, person_id)
    savannakhet = officer(migrated, "LA-SV")
    employer = await new_employer(matching_client, migrated, province_code="LA-SV")
    body = domestic_body(
        employer["id"],
        province_code="LA-SV",
        district="Kaysone Phomvihane",
        isco08="7212",
        title="Welder, Savan-Seno zone",
        required_skills=["welding"],
    )
    draft = await matching_client.post("/v1/vacancies", json=body, headers=savannakhet)
    vacancy = await set_status(matching_client, savannakhet, draft.json(), "published")

    jobs = await matching_client.get(
        f"/v1/people/{person_id}/vacancies", params={"limit": 100}, headers=auth
    )
    opened = await matching_client.get(f"/v1/vacancies/{vacancy['id']}", headers=auth)
    referral = await matching_client.post(
        "/v1/referrals", json={"vacancy_id": vacancy["id"], "person_id": person_id}, headers=auth
    )
    mrc = bearer(migrated, "officer-mrc-sv-1", ["mrc_staff"], office="MRC-SV", province="LA-SV")
    before_visit = await matching_client.get(f"/v1/candidates/{person_id}", headers=mrc)
    visit = await registry_client.post(
        f"/v1/people/{person_id}/visits",
        json={"reason": "job interview in Savannakhet"},
        headers=mrc,
    )

    async def served() -> dict[str, Any] | None:
        answer = await matching_client.get(f"/v1/candidates/{person_id}", headers=mrc)
        return dict(answer.json()) if answer.status_code == 200 else None

    seen_by_mrc = await wait_until(served, timeout_s=EVENT_TRAVEL_S)
    for status in ("interviewed", "offered"):
        moved = await matching_client.post(
            f"/v1/referrals/{referral.json()['id']}/status",
            json={"status": status},
            headers=savannakhet,
        )
        assert moved.status_code == 200, moved.text
    placed = await matching_client.post(
        f"/v1/referrals/{referral.json()['id']}/placement", json={}, headers=mrc
    )
    in_registry = await jobseeker_status(registry_client, auth, person_id, "placed")

    assert vacancy["id"] in [v["vacancy_id"] for v in jobs.json()["items"]]
    assert opened.status_code == 200, opened.text
    assert referral.status_code == 201, referral.text
    assert before_visit.status_code == 403
    assert visit.status_code == 201, visit.text
    assert seen_by_mrc["serving_offices"] == ["MRC-SV"]
    assert seen_by_mrc["province_code"] == "LA-VT"
    assert placed.status_code == 201, placed.text
    assert in_registry == "placed"


async def test_an_overseas_placement_readies_the_migration_record_in_registry(
    network: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await registered_with_consent(registry_client, auth)
    agency = await new_agency(matching_client, migrated)
    opened = await registry_client.post(
        f"/v1/people/{person_id}/migrations",
        json={"destination_country": "TH", "channel": "mou", "agency_code": agency["code"]},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    # An overseas placement needs the open migration record for the destination: wait for it.
    candidate = await known_to_matching(
        matching_client,
        migrated,
        person_id,
        migration_status="prospective",
        migration_destination="TH",
    )
    body = overseas_body(agency["id"], isco08="7212", title="Welder", required_skills=["welding"])
    draft = await matching_client.post("/v1/vacancies", json=body, headers=agent(migrated, agency))
    vacancy = await set_status(matching_client, officer(migrated), draft.json(), "published")
    referral = (
        await matching_client.post(
            "/v1/referrals",
            json={"vacancy_id": vacancy["id"], "person_id": person_id},
            headers=officer(migrated),
        )
    ).json()
    await step(matching_client, migrated, referral["id"], "interviewed")
    await step(matching_client, migrated, referral["id"], "offered")
    url = f"/v1/referrals/{referral['id']}/placement"

    refused = await matching_client.post(url, json={}, headers=officer(migrated))
    completion = envelope_for(
        OrientationCompleted(
            person_id=uuid.UUID(person_id),
            certificate_number=f"PDO-{uuid.uuid4().hex[:8]}",
            destination_country="TH",
            completed_on=TODAY,
            valid_until=TODAY + timedelta(days=365),
            recorded_at=datetime.now(UTC),
        )
    )
    await publish(producer, completion, "predeparture.orientations")

    async def placed() -> httpx.Response | None:
        answer = await matching_client.post(url, json={}, headers=officer(migrated))
        return answer if answer.status_code == 201 else None

    made = await wait_until(placed, timeout_s=EVENT_TRAVEL_S, interval_s=0.5)

    async def migration_ready() -> list[dict[str, Any]] | None:
        answer = await registry_client.get(f"/v1/people/{person_id}/migrations", headers=auth)
        items = answer.json()["items"]
        return items if items and items[0]["status"] == "ready" else None

    [record] = await wait_until(migration_ready, timeout_s=EVENT_TRAVEL_S)
    status = await jobseeker_status(registry_client, auth, person_id, "placed")

    assert candidate["passport_expires_on"] is not None
    assert refused.status_code == 409
    assert [m["code"] for m in refused.json()["missing"]] == ["predeparture_orientation"]
    assert made.json()["overseas"] is True
    assert (record["agency_code"], record["destination_country"]) == (agency["code"], "TH")
    assert status == "placed"
