"""The contract every service's OpenAPI document states about errors, declared once.

Each operation lists the problem statuses it can answer, `application/problem+json` with the
`Problem` schema, worked out from what the route is made of rather than written route by route:

- 422 everywhere: every route refuses an unknown query parameter and control characters;
- 401 and 403 where the route needs a token or a key (a security scheme in its dependencies);
- 404 where its path names something (a path parameter);
- 409 where it writes (POST, PUT, PATCH, DELETE): a state that forbids the change, a record that
  exists already;
- 412 where it takes `If-Match`;
- 413 where it takes a body;
- anything a dependency declares with `answers(...)` (a rate limit's 429, a webhook's 401).

A path answers only the methods its document lists: `PATCH /v1/partners/me` is a 405 with
`Allow`, not a `PATCH /v1/partners/{partner_id}` whose id `me` is invalid (422).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.exceptions import HTTPException

from shared.problems import PROBLEM_JSON, ProblemDocument

PROBLEM_REF = "#/components/schemas/Problem"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# What each status means, as a generated client's documentation shows it.
DESCRIPTIONS = {
    401: "Not authenticated: no token or API key, or one that is not valid",
    403: "Not allowed: a role the caller lacks, or an object outside their scope",
    404: "Nothing by this id or reference (or nothing the caller may know of)",
    405: "The path does not take this method (`Allow` lists those it takes)",
    409: "Conflict with the current state: a change its status forbids, a record that exists",
    410: "Gone: the record was erased",
    412: "The record changed since it was read (`If-Match` is stale)",
    413: "The body is larger than this route takes",
    422: "Invalid request: every bad field is named in `errors`",
    429: "Too many requests: wait for `Retry-After` seconds",
    503: "A service this route needs is not available or not configured",
}

Call = TypeVar("Call", bound=Callable[..., Any])


def answers(*statuses: int) -> Callable[[Call], Call]:
    """Declare the problem statuses a dependency can answer; every operation using it lists
    them (`@answers(429)` on a rate limit, `@answers(401, 503)` on a webhook signature check)."""

    def mark(call: Call) -> Call:
        declared: tuple[int, ...] = getattr(call, "__problem_statuses__", ())
        call.__problem_statuses__ = (*declared, *statuses)  # type: ignore[attr-defined]
        return call

    return mark


def _dependencies(dependant: Dependant | None) -> Iterator[Dependant]:
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        current = pending.pop()
        yield current
        pending.extend(current.dependencies)


def _declared(route: RouteContext) -> set[int]:
    """Statuses the route's dependencies declare with `answers`, however deep."""
    statuses: set[int] = set()
    for dependant in _dependencies(route.dependant):
        call = dependant.call
        # A class instance (HTTPBearer) declares on its class; a partial on its function.
        for holder in (call, getattr(call, "func", None), type(call)):
            statuses.update(getattr(holder, "__problem_statuses__", ()))
    return statuses


def statuses_of(route: RouteContext, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses an operation can answer, from its route and its document."""
    statuses = {422} | _declared(route)
    if operation.get("security"):
        statuses |= {401, 403}
    parameters = operation.get("parameters", [])
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters):
        statuses.add(412)
    if method in WRITES:
        statuses.add(409)
    if "requestBody" in operation:
        statuses.add(413)
    return statuses


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route of the app as it answers (prefixes and dependencies of the routers that
    include it applied: FastAPI keeps included routers whole in `app.routes`)."""
    return [rc for rc in iter_route_contexts(app.routes) if isinstance(rc.original_route, APIRoute)]


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def describe_errors(document: dict[str, Any], routes: list[RouteContext]) -> dict[str, Any]:
    """Add each operation's problem responses to an OpenAPI document (in place) and the
    `Problem` schema they refer to; an error response a route declared keeps its description
    and answers problem+json."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses_of(route, method, operation):
                responses.setdefault(str(status), {"description": DESCRIPTIONS.get(status, "")})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _problem_content()
                    # FastAPI's "Validation Error" for its own 422 says less than ours.
                    if response.get("description") in (None, "", "Validation Error"):
                        response["description"] = DESCRIPTIONS.get(int(status), "Error")
    # FastAPI's own shapes of a 422, which no labourx route answers.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _literal_routes(routes: list[RouteContext]) -> list[tuple[re.Pattern[str], int, set[str]]]:
    """Routes whose path a route with more parameters also matches (`/v1/partners/me`, which
    `/v1/partners/{partner_id}` matches too): their pattern, parameter count and methods."""
    return [
        (literal.path_regex, len(literal.param_convertors), set(literal.methods or ()))
        for literal in routes
        if any(
            len(other.param_convertors) > len(literal.param_convertors)
            and other.path_regex.match(literal.path_format)
            for other in routes
        )
    ]


async def refuse_undocumented_method(request: Request) -> None:
    """An app-wide dependency: a request whose path is that of a more literal route answers that
    route's 405 when it does not take the method, whatever template would also match it."""
    literal: list[tuple[re.Pattern[str], int, set[str]]] = request.app.state.literal_routes
    path, routed_parameters = request.scope["path"], len(request.path_params)
    for pattern, parameters, methods in literal:
        if parameters < routed_parameters and request.method not in methods and pattern.match(path):
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(methods))})


def install(app: FastAPI) -> None:
    """Once every router is included: the document lists each operation's errors, and a
    literal path answers 405 for a method it does not take."""
    app.state.literal_routes = _literal_routes(api_routes(app))
    generate = app.openapi
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI makes the document again when routes were added since; describe each once.
        document = generate()
        if not any(document is done for done in described):
            described[:] = [describe_errors(document, api_routes(app))]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
