"""Every rule a request breaks is named in one answer, not one at a time; the names are those of
the fields the client sent, and counts read as people write them."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from shared import clock
from tests.support import fetchval, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


def _years_ago(years: int) -> str:
    today = clock.today()
    return today.replace(year=today.year - years).isoformat()


async def test_a_registration_breaking_several_rules_hears_of_them_all(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = jobseeker(
        date_of_birth=_years_ago(12),
        office_code="ESC-NOWHERE",
        consents=[{"purpose": "contact_sms", "status": "given", "method": "verbal"}],
    )
    before = await fetchval(migrated, "registry", "SELECT count(*) FROM people")

    response = await registry_client.post("/v1/jobseekers", json=body, headers=auth)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [
        "date_of_birth",
        "office_code",
        "consents.0.witness_name",
    ]
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM people") == before


async def test_an_update_breaking_several_rules_hears_of_them_all(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()

    response = await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={
            "sex": None,
            "given_name_lo": None,
            "given_name_en": None,
            "date_of_birth": (clock.today() + timedelta(days=3)).isoformat(),
        },
        headers=auth,
    )

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {
        "sex",
        "given_name_lo",
        "date_of_birth",
    }


async def test_a_migration_status_breaking_several_rules_hears_of_them_all(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = (await registry_client.post("/v1/people", json=jobseeker(), headers=auth)).json()
    record = await registry_client.post(
        f"/v1/people/{person['id']}/migrations",
        json={"destination_country": "TH", "channel": "other_regular"},
        headers=auth,
    )
    assert record.status_code == 201, record.text
    for status in ("ready", "departed"):
        moved = await registry_client.post(
            f"/v1/migrations/{record.json()['id']}/status",
            json={
                "status": status,
                **({"on": clock.today().isoformat()} if status == "departed" else {}),
            },
            headers=auth,
        )
        assert moved.status_code == 200, moved.text

    response = await registry_client.post(
        f"/v1/migrations/{record.json()['id']}/status", json={"status": "returned"}, headers=auth
    )

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"on", "return_reason"}


async def test_a_consent_breaking_several_rules_hears_of_them_all(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()

    response = await registry_client.post(
        f"/v1/people/{person['id']}/consents",
        json={
            "purpose": "partner_sharing",
            "scope": {"category": "everyone"},
            "status": "given",
            "method": "thumbprint",
            "expires_on": (clock.today() - timedelta(days=2)).isoformat(),
        },
        headers=auth,
    )

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {
        "scope.category",
        "witness_name",
        "expires_on",
    }


async def test_a_migrant_too_young_is_refused_naming_the_person_not_a_field_not_sent(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    person = (
        await registry_client.post(
            "/v1/people", json=jobseeker(date_of_birth=_years_ago(16)), headers=auth
        )
    ).json()

    response = await registry_client.post(
        f"/v1/people/{person['id']}/migrations",
        json={"destination_country": "TH", "channel": "other_regular"},
        headers=auth,
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "person_id"
    assert "18 years old" in error["message"]
