"""The contract every service's OpenAPI document states about errors, declared once.

Each operation lists the problem statuses it can answer, `application/problem+json` with the
`Problem` schema, worked out from what the route is made of rather than written route by route:

- 422 everywhere: every route refuses an unknown query parameter and control characters;
- 503 everywhere, with `Retry-After`: the service's database is down, restarting or out of
  connections (shared/problems.py), which a client should retry, not report;
- 401 and 403 where the route needs a token or a key (a security scheme in its dependencies);
- 404 where it names a record: a path parameter, or an id in its JSON body;
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
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.exceptions import HTTPException

from shared.problems import PROBLEM_JSON, ProblemDocument, problem_response

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
    503: "Not available now (its database is down or restarting, or a service it needs is"
    " not configured): try again after `Retry-After` seconds",
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


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, name = schema["$ref"].split("/")
        schema = document["components"]["schemas"][name]
    return schema


def _names_records(operation: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether the JSON body names other records by id (`vacancy_id`): one that does not
    exist is a 404, as it is in a path."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = _resolve(content.get("application/json", {}).get("schema", {}), document)
    for field in schema.get("properties", {}).values():
        field = _resolve(field, document)
        if any(option.get("format") == "uuid" for option in [field, *field.get("anyOf", [])]):
            return True
    return False


def statuses_of(
    route: RouteContext, method: str, operation: dict[str, Any], document: dict[str, Any]
) -> set[int]:
    """The problem statuses an operation can answer, from its route and its document."""
    statuses = {422, 503} | _declared(route)
    if operation.get("security"):
        statuses |= {401, 403}
    parameters = operation.get("parameters", [])
    if any(p["in"] == "path" for p in parameters) or _names_records(operation, document):
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


# What `shared/control_chars.py` refuses, stated where a client reads what it may send: every
# string of a request without a pattern of its own, and every name of an open object.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"


ANY_TEXT_JSON = "AnyJsonWithoutControlCharacters"


def _any_text_json() -> dict[str, Any]:
    """Any JSON value whose strings and names hold no control character."""
    itself = {"$ref": f"#/components/schemas/{ANY_TEXT_JSON}"}
    return {
        "anyOf": [
            {"type": "string", "pattern": NO_CONTROL_CHARACTERS},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": itself},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_CONTROL_CHARACTERS},
                "additionalProperties": itself,
            },
        ],
        "description": "Any JSON value whose strings and names hold no control character",
    }


def _refuse_control_characters(schema: Any, document: dict[str, Any], seen: set[str]) -> None:
    """Add NO_CONTROL_CHARACTERS to the strings of a request schema, following its references
    once each (a component used by a response too says the same: no answer holds one)."""
    if isinstance(schema, list):
        for item in schema:
            _refuse_control_characters(item, document, seen)
        return
    if not isinstance(schema, dict):
        return
    if (ref := schema.get("$ref")) is not None:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _refuse_control_characters(document["components"]["schemas"][name], document, seen)
        return
    _refuse_in_this_schema(schema)
    for key in ("properties", "patternProperties", "$defs"):
        for child in schema.get(key, {}).values():
            _refuse_control_characters(child, document, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "prefixItems"):
        if key in schema:
            _refuse_control_characters(schema[key], document, seen)


def _refuse_in_this_schema(schema: dict[str, Any]) -> None:
    """The refusal at one level of a schema, its children aside: a free string gets the
    pattern, and an object that takes other names refuses them in its names and values."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NO_CONTROL_CHARACTERS
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        names = schema.setdefault("propertyNames", {})
        names.setdefault("pattern", NO_CONTROL_CHARACTERS)
        if schema.get("additionalProperties", True) is True:
            # What an object takes beside its properties (ignored, or kept as they are): any
            # JSON, and the boundary reads all of it.
            schema["additionalProperties"] = {"$ref": f"#/components/schemas/{ANY_TEXT_JSON}"}


def _request_schemas(operation: dict[str, Any]) -> Iterator[Any]:
    for parameter in operation.get("parameters", []):
        yield parameter.get("schema")
    for media in operation.get("requestBody", {}).get("content", {}).values():
        yield media.get("schema")


def describe_errors(document: dict[str, Any], routes: list[RouteContext]) -> dict[str, Any]:
    """Add each operation's problem responses to an OpenAPI document (in place) and the
    `Problem` schema they refer to; an error response a route declared keeps its description
    and answers problem+json."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    schemas[ANY_TEXT_JSON] = _any_text_json()
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            seen: set[str] = set()
            for schema in _request_schemas(operation):
                _refuse_control_characters(schema, document, seen)
            responses = operation.setdefault("responses", {})
            for status in statuses_of(route, method, operation, document):
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


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """The methods a path answers: those of the most literal routes matching it (the methods
    of a path are routes of their own, and Starlette's 405 named only the first one's)."""
    matching = [r for r in app.state.api_routes if r.path_regex.match(path)]
    fewest = min((len(r.param_convertors) for r in matching), default=0)
    return {m for r in matching if len(r.param_convertors) == fewest for m in r.methods or ()}


def _method_not_allowed(request: Request) -> JSONResponse:
    allowed = allowed_methods(request.app, request.scope["path"])
    answer = problem_response(
        405,
        "method-not-allowed",
        "Method not allowed",
        f"{request.method} is not a method of this path; it takes {', '.join(sorted(allowed))}",
        request.url.path,
    )
    answer.headers["Allow"] = ", ".join(sorted(allowed))
    return answer


async def refuse_undocumented_method(request: Request) -> None:
    """An app-wide dependency: a request whose path is that of a more literal route answers that
    route's 405 when it does not take the method, whatever template would also match it."""
    literal: list[tuple[re.Pattern[str], int, set[str]]] = request.app.state.literal_routes
    path, routed_parameters = request.scope["path"], len(request.path_params)
    for pattern, parameters, methods in literal:
        if parameters < routed_parameters and request.method not in methods and pattern.match(path):
            raise HTTPException(405)


def install(app: FastAPI) -> None:
    """Once every router is included: the document lists each operation's errors, and a
    literal path answers 405 for a method it does not take."""
    app.state.api_routes = api_routes(app)
    app.state.literal_routes = _literal_routes(app.state.api_routes)

    async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return _method_not_allowed(request)

    app.add_exception_handler(405, method_not_allowed)
    generate = app.openapi
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI makes the document again when routes were added since; describe each once.
        document = generate()
        if not any(document is done for done in described):
            described[:] = [describe_errors(document, api_routes(app))]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
