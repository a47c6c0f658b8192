"""A query parameter a route does not take is refused with a 422 naming it, on every route of
every service (the matrix comes from each service's OpenAPI document, so a route added later
is covered without anyone remembering to)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import pytest

from shared.auth import mint_token

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


def _admin(settings: Settings) -> dict[str, str]:
    token = mint_token(settings, subject="admin-1", roles=["admin"], national=True)
    return {"Authorization": f"Bearer {token}"}


async def _every_route(client: httpx.AsyncClient) -> list[tuple[str, str, set[str]]]:
    document = (await client.get("/openapi.json")).json()
    routes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            routes.append((method.upper(), path, declared))
    return routes


@pytest.mark.parametrize("service", ["registry", "matching", "predeparture", "notify"])
async def test_an_unknown_query_parameter_is_refused_on_every_route(
    service: str, service_clients: dict[str, httpx.AsyncClient], migrated: Settings
) -> None:
    client = service_clients[service]
    routes = await _every_route(client)
    assert len(routes) > 5, routes
    for method, path, declared in routes:
        assert "phone_number_typo" not in declared
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        answer = await client.request(
            method, concrete, params={"phone_number_typo": "2055557001"}, headers=_admin(migrated)
        )
        assert answer.status_code == 422, (method, path, answer.status_code, answer.text)
        body = answer.json()
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in body["errors"]] == ["phone_number_typo"], (method, path)
        for name in declared:
            assert name in body["errors"][0]["message"], (method, path, name)


async def test_declared_query_parameters_still_work(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    answer = await registry_client.get("/v1/people", params={"limit": 5}, headers=_admin(migrated))
    assert answer.status_code == 200, answer.text


async def test_operational_routes_refuse_unknown_parameters_too(
    registry_client: httpx.AsyncClient,
) -> None:
    answer = await registry_client.get("/healthz", params={"verbose": "1"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "verbose"
