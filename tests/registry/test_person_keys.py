"""Registry's internal person-keys endpoint (services/registry/keys/api.py): the keys consumers
fetch for the sealed events of people they meet first, only for the service token."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import TYPE_CHECKING

import httpx

from labourx.catalog import SERVICES
from shared.app import create_app
from tests.support import fetchval

if TYPE_CHECKING:
    from shared.settings import Settings

PATH = "/internal/v1/person-keys"


def _service(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.service_credential()}"}


async def _held(settings: Settings) -> tuple[uuid.UUID, bytes]:
    person_id, key = uuid.uuid4(), secrets.token_bytes(32)
    await fetchval(
        settings,
        "registry",
        "INSERT INTO person_keys (person_id, key) VALUES ($1, $2) RETURNING 1",
        person_id,
        key,
    )
    return person_id, key


async def test_keys_are_answered_for_the_people_registry_holds_and_no_one_else(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    (first, first_key), (second, second_key) = [await _held(migrated) for _ in range(2)]
    unknown = uuid.uuid4()

    answer = await registry_client.post(
        PATH,
        json={"person_ids": [str(first), str(unknown), str(second), str(first)]},
        headers=_service(migrated),
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    keys = answer.json()["keys"]
    assert keys == {
        str(first): base64.urlsafe_b64encode(first_key).decode(),
        str(second): base64.urlsafe_b64encode(second_key).decode(),
    }


async def test_a_destroyed_key_is_no_longer_answered(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    person_id, _ = await _held(migrated)
    await fetchval(migrated, "registry", "DELETE FROM person_keys WHERE person_id = $1", person_id)

    answer = await registry_client.post(
        PATH, json={"person_ids": [str(person_id)]}, headers=_service(migrated)
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"keys": {}}


async def test_keys_are_refused_without_the_service_token(
    registry_client: httpx.AsyncClient, migrated: Settings, auth: dict[str, str]
) -> None:
    person_id, _ = await _held(migrated)
    body = {"person_ids": [str(person_id)]}

    for headers in ({}, auth, {"Authorization": "Bearer not-the-token"}):
        answer = await registry_client.post(PATH, json=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "keys" not in answer.json()


async def test_a_request_without_ids_or_with_a_bad_one_names_the_field(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for person_ids in ([], ["not-a-uuid"], [str(uuid.uuid4())] * 501):
        answer = await registry_client.post(
            PATH, json={"person_ids": person_ids}, headers=_service(migrated)
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert {e["field"].split(".")[0] for e in answer.json()["errors"]} == {"person_ids"}


async def test_a_connection_the_database_closed_is_dropped_from_the_pool(
    migrated: Settings,
) -> None:
    """The keys are read on a pooled connection outside a session: one the server closed
    answers 503 once, and is not handed out again."""
    app = create_app(SERVICES["registry"], migrated.model_copy(update={"db_pool_size": 1}))
    person_id, _ = await _held(migrated)
    body = {"person_ids": [str(person_id)]}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            first = await client.post(PATH, json=body, headers=_service(migrated))
            assert first.status_code == 200, first.text
            async with app.state.engine.connect() as connection:
                backend = (await connection.get_raw_connection()).driver_connection
                pid = backend.get_server_pid()
            await fetchval(migrated, "registry", "SELECT pg_terminate_backend($1)", pid)

            after = [
                (await client.post(PATH, json=body, headers=_service(migrated))).status_code
                for _ in range(3)
            ]

    assert after[0] in {200, 503}
    assert after[1:] == [200, 200]
