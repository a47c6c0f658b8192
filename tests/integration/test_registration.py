"""Registering a jobseeker over HTTP: validation, atomicity, idempotency, access."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from shared.auth import mint_token
from tests.support import fetchval, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

PEOPLE = "SELECT count(*) FROM people"
OUTBOX = "SELECT count(*) FROM outbox"


async def test_registration_stores_the_person_and_its_event_together(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    response = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(phone="020 5999 1234"), headers=auth
    )

    assert response.status_code == 201, response.text
    person = response.json()
    assert person["phone"] == "+8562059991234"
    assert person["office_code"] == "ESC-VT"
    event_type = await fetchval(
        migrated, "registry", "SELECT type FROM outbox WHERE key = $1", person["id"]
    )
    # Sealed under the person's key, made in the same transaction (docs/architecture.md,
    # "Erasure on the event log").
    assert event_type == "lao.labourx.registry.person.registered.v2"
    key = await fetchval(
        migrated, "registry", "SELECT key FROM person_keys WHERE person_id = $1::uuid", person["id"]
    )
    assert len(key) == 32


async def test_bad_input_names_every_bad_field_and_writes_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    before = (
        await fetchval(migrated, "registry", PEOPLE),
        await fetchval(migrated, "registry", OUTBOX),
    )
    body = jobseeker(given_name_lo="Somsak", sex="x", phone="12", province_code="LA-ZZ")

    response = await registry_client.post("/v1/jobseekers", json=body, headers=auth)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert {e["field"] for e in problem["errors"]} == {
        "given_name_lo",
        "sex",
        "phone",
        "province_code",
    }
    after = (
        await fetchval(migrated, "registry", PEOPLE),
        await fetchval(migrated, "registry", OUTBOX),
    )
    assert after == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_name_lo": None, "given_name_en": None}, "body"),
        ({"date_of_birth": "2020-01-01"}, "date_of_birth"),
        ({"phone": "+1 202 555 0100"}, "phone"),
    ],
)
async def test_domain_rules_answer_422_naming_the_field(
    registry_client: httpx.AsyncClient, auth: dict[str, str], change: dict[str, object], field: str
) -> None:
    response = await registry_client.post("/v1/jobseekers", json=jobseeker(**change), headers=auth)

    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_failing_write_leaves_neither_state_nor_event(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    # Make the outbox insert fail inside the request's transaction, after the person's insert.
    await fetchval(
        migrated,
        "registry",
        """
        CREATE OR REPLACE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'outbox refused for the test'; END $$;
        """,
    )
    await fetchval(
        migrated,
        "registry",
        "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox"
        " FOR EACH ROW EXECUTE FUNCTION refuse_outbox()",
    )
    marker = f"Failwrite{uuid.uuid4().hex[:6]}"
    try:
        response = await registry_client.post(
            "/v1/jobseekers", json=jobseeker(given_name_en=marker), headers=auth
        )
    finally:
        await fetchval(migrated, "registry", "DROP TRIGGER refuse_outbox ON outbox")

    assert response.status_code == 500
    assert response.json()["type"].endswith("/internal-error")
    assert (
        await fetchval(
            migrated, "registry", "SELECT count(*) FROM people WHERE given_name_en = $1", marker
        )
        == 0
    )


async def test_a_retried_request_with_the_same_key_registers_once(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4()), **auth}
    body = jobseeker(given_name_en=f"Retry{uuid.uuid4().hex[:6]}")

    first = await registry_client.post("/v1/jobseekers", json=body, headers=key)
    second = await registry_client.post("/v1/jobseekers", json=body, headers=key)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    count = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM people WHERE given_name_en = $1",
        body["given_name_en"],
    )
    assert count == 1
    events = await fetchval(
        migrated, "registry", "SELECT count(*) FROM outbox WHERE key = $1", first.json()["id"]
    )
    assert events == 1


async def test_reusing_a_key_for_a_different_request_is_refused(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4()), **auth}
    await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=key)

    response = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(given_name_en="Other"), headers=key
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


async def test_registration_needs_a_valid_token(registry_client: httpx.AsyncClient) -> None:
    missing = await registry_client.post("/v1/jobseekers", json=jobseeker())
    forged = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(), headers={"Authorization": "Bearer not.a.token"}
    )

    assert missing.status_code == forged.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"


async def test_roles_and_province_scope_are_enforced(
    registry_client: httpx.AsyncClient, settings: Settings, auth: dict[str, str]
) -> None:
    partner = mint_token(settings, subject="iom", roles=["partner"])
    other_province = mint_token(
        settings, subject="officer-sv", roles=["esc_staff"], office="ESC-SV", province="LA-SV"
    )

    as_partner = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(), headers={"Authorization": f"Bearer {partner}"}
    )
    outside = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(), headers={"Authorization": f"Bearer {other_province}"}
    )
    created = await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)
    read_outside = await registry_client.get(
        f"/v1/people/{created.json()['id']}", headers={"Authorization": f"Bearer {other_province}"}
    )
    read_inside = await registry_client.get(f"/v1/people/{created.json()['id']}", headers=auth)

    assert as_partner.status_code == 403
    assert outside.status_code == 403
    assert read_outside.status_code == 403
    assert read_inside.status_code == 200


async def test_ops_endpoints_answer_without_a_token(registry_client: httpx.AsyncClient) -> None:
    assert (await registry_client.get("/healthz")).status_code == 200
    ready = await registry_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = await registry_client.get("/metrics")
    assert "labourx_http_requests_total" in metrics.text
    openapi = (await registry_client.get("/openapi.json")).json()
    assert "/v1/jobseekers" in openapi["paths"]
