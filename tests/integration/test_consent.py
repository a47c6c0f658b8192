"""Consent over HTTP: decisions, withdrawal, the event of every change, validation and access."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from shared import clock
from shared.auth import mint_token
from tests.support import fetch, fetchval, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


async def _person(client: httpx.AsyncClient, auth: dict[str, str], phone: str) -> str:
    response = await client.post("/v1/jobseekers", json=jobseeker(phone=phone), headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _recorded(settings: Settings, person: str) -> int:
    """How many consent decisions the person has in the registry's table."""
    return int(
        await fetchval(
            settings, "registry", "SELECT count(*) FROM consents WHERE person_id = $1", person
        )
    )


def _decision(**overrides: object) -> dict[str, object]:
    return {"purpose": "contact_sms", "status": "given", "method": "signed", **overrides}


async def test_withdrawal_is_recorded_and_announced(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0001")
    url = f"/v1/people/{person}/consents"

    given = await registry_client.post(url, json=_decision(), headers=auth)
    assert given.status_code == 201, given.text
    withdrawn = await registry_client.post(url, json=_decision(status="withdrawn"), headers=auth)
    assert withdrawn.status_code == 201, withdrawn.text

    current = (await registry_client.get(url, headers=auth)).json()["items"]
    assert [(c["purpose"], c["status"]) for c in current] == [("contact_sms", "withdrawn")]
    history = (await registry_client.get(url, params={"history": True}, headers=auth)).json()
    assert [c["status"] for c in history["items"]] == ["withdrawn", "given"]

    # Every change is an event, in the same transaction as the row, keyed by the person.
    rows = await fetch(
        migrated,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        person,
        "lao.labourx.registry.person.consent_changed.v1",
    )
    statuses = [json.loads(r["value"])["data"]["status"] for r in rows]
    assert statuses == ["given", "withdrawn"]


async def test_only_a_consent_in_force_can_be_withdrawn(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0002")
    url = f"/v1/people/{person}/consents"

    response = await registry_client.post(url, json=_decision(status="withdrawn"), headers=auth)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_status"] is None
    assert await _recorded(migrated, person) == 0


async def test_a_lapsed_consent_reads_expired_and_can_be_renewed(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0003")
    url = f"/v1/people/{person}/consents"
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    given = await registry_client.post(url, json=_decision(expires_on=tomorrow), headers=auth)
    assert given.status_code == 201, given.text
    # Let it lapse: move its expiry into the past, as time would.
    await fetchval(
        migrated,
        "registry",
        "UPDATE consents SET expires_on = current_date - 1 WHERE person_id = $1 RETURNING 1",
        person,
    )

    current = (await registry_client.get(url, headers=auth)).json()["items"][0]
    assert (current["status"], current["recorded_status"]) == ("expired", "given")
    renewed = await registry_client.post(url, json=_decision(status="renewed"), headers=auth)
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["status"] == "renewed"


async def test_bad_decisions_name_the_field_and_write_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0004")
    url = f"/v1/people/{person}/consents"
    cases = [
        (_decision(purpose="marketing"), "purpose"),
        (_decision(status="expired"), "status"),
        (_decision(method="verbal"), "witness_name"),
        (_decision(purpose="partner_sharing"), "scope"),
        (_decision(purpose="partner_sharing", scope={"category": "everyone"}), "scope.category"),
        (_decision(expires_on="2001-01-01"), "expires_on"),
    ]
    for body, field in cases:
        response = await registry_client.post(url, json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
    assert await _recorded(migrated, person) == 0
    events = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM outbox WHERE key = $1 AND type LIKE '%consent_changed%'",
        person,
    )
    assert events == 0


async def test_verbal_sharing_consent_with_a_witness(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = await _person(registry_client, auth, "020 5810 0005")
    body = _decision(
        purpose="partner_sharing",
        scope={"category": "un_agencies"},
        method="verbal",
        witness_name="Bounmy, village chief",
    )
    response = await registry_client.post(f"/v1/people/{person}/consents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert (response.json()["category"], response.json()["agency"]) == ("un_agencies", None)


async def test_a_retried_decision_is_recorded_once(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0006")
    url = f"/v1/people/{person}/consents"
    headers = {**auth, "Idempotency-Key": f"consent-{person}"}

    first = await registry_client.post(url, json=_decision(), headers=headers)
    again = await registry_client.post(url, json=_decision(), headers=headers)

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert await _recorded(migrated, person) == 1


async def test_staff_of_another_province_cannot_see_or_record(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _person(registry_client, auth, "020 5810 0007")
    url = f"/v1/people/{person}/consents"
    other = mint_token(
        migrated, subject="officer-lp", roles=["esc_staff"], office="ESC-LP", province="LA-LP"
    )
    elsewhere = {"Authorization": f"Bearer {other}"}

    assert (await registry_client.get(url, headers=elsewhere)).status_code == 403
    assert (await registry_client.post(url, json=_decision(), headers=elsewhere)).status_code == 403
    invalidate = await registry_client.post(url, json=_decision(status="invalidated"), headers=auth)
    assert invalidate.status_code == 403  # staff may not; only an admin
    unknown = "/v1/people/00000000-0000-4000-8000-000000000000/consents"
    assert (await registry_client.get(unknown, headers=auth)).status_code == 404
