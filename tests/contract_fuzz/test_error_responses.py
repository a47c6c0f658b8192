"""Every operation of every service's OpenAPI document lists the problems it can answer, as
`application/problem+json` with the `Problem` schema, so that a generated client handles them;
and a method a path does not take is a 405 problem naming those it does (shared/openapi.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import bearer

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
SERVICES = ["registry", "matching", "predeparture", "notify"]


def _expected(method: str, operation: dict[str, Any]) -> set[str]:
    statuses = {"422", "503"}  # 503: a database down or restarting (tests/faults)
    if operation.get("security"):
        statuses |= {"401", "403"}
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        statuses.add("404")
    if any(p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
        statuses.add("412")
    if method != "get":
        statuses.add("409")
    if "requestBody" in operation:
        statuses.add("413")
    return statuses


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_lists_its_problems_as_problem_json(
    service: str, service_clients: dict[str, httpx.AsyncClient]
) -> None:
    document = (await service_clients[service].get("/openapi.json")).json()
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = 0
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operations += 1
            responses = operation["responses"]
            missing = _expected(method, operation) - set(responses)
            assert not missing, (method, path, missing)
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"] == PROBLEM, (method, path, status)
                    assert response["description"], (method, path, status)
    assert operations > 20


@pytest.mark.parametrize("service", SERVICES)
async def test_a_method_a_path_does_not_take_is_a_405_naming_those_it_does(
    service: str, service_clients: dict[str, httpx.AsyncClient], migrated: Settings
) -> None:
    client = service_clients[service]
    document = (await client.get("/openapi.json")).json()
    admin = bearer(migrated, "admin-405", ["admin"], national=True)
    for path, methods in document["paths"].items():
        documented = {m.upper() for m in methods}
        undocumented = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented)
        if not undocumented:
            continue
        concrete = re.sub(r"\{[^}]+\}", "P-23456789", path)
        answer = await client.request(undocumented[0], concrete, headers=admin)
        assert answer.status_code == 405, (undocumented[0], path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert allowed - {"HEAD"} == documented, (path, allowed, documented)
