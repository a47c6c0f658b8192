"""Every JSON answer of the four APIs goes through the model its route declares (issue 18).

FastAPI validates and filters a route's answer by its `response_model` only when the route
returns the model; a `Response` it returns (a `JSONResponse` built from a dict, `@idempotent`'s
stored answers) is sent as is, so a field the model does not declare leaks out and the OpenAPI
document says less than what is sent. These tests walk every route of every service, and check
`@idempotent` itself: it sends the declared model's fields alone, and refuses another type.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.idempotency import (
    _PARAMETER,
    Answer,
    AnswerIsNotItsModel,
    Idempotency,
    IdempotencyRecord,
    answer_model,
    idempotent,
)
from shared.openapi import api_routes
from shared.settings import DATA_SERVICES, Settings

# Answers that are not JSON documents, with their reason: the route states its media type.
NOT_JSON = {
    ("registry", "GET", "/v1/people/{person_id}/slip.pdf"): "a PDF to print",
    ("predeparture", "GET", "/v1/sessions/{session_id}/roster.pdf"): "a PDF to print",
    ("predeparture", "GET", "/v1/certificates/{certificate_number}.pdf"): "a PDF to print",
}


def _routes() -> list[tuple[str, str, str, APIRoute]]:
    found = []
    settings = Settings()
    for name in DATA_SERVICES:
        for context in api_routes(create_app(SERVICES[name], settings)):
            route = context.original_route
            assert isinstance(route, APIRoute)
            if not route.include_in_schema:  # /healthz, /readyz, /docs, /metrics: operations
                continue
            for method in sorted(route.methods or ()):
                found.append((name, method, str(context.path), route))
    return found


ROUTES = _routes()


def _returned(route: APIRoute) -> Any:
    """What the route's own function says it returns (`@idempotent`'s: its `Answer`'s)."""
    endpoint = route.endpoint
    if hasattr(endpoint, "__answer_model__"):
        return answer_model(inspect.unwrap(endpoint))
    return typing.get_type_hints(endpoint)["return"]


def test_the_walk_finds_every_service_and_its_idempotent_routes() -> None:
    assert {name for name, *_ in ROUTES} == set(DATA_SERVICES)
    idempotent_routes = [r for *_, r in ROUTES if hasattr(r.endpoint, "__answer_model__")]
    assert len(idempotent_routes) >= 38
    assert set(NOT_JSON) <= {(name, method, path) for name, method, path, _ in ROUTES}


def test_every_json_answer_is_the_model_its_route_declares() -> None:
    """A 2xx JSON answer has a response model, and the route's function returns that model
    (or `Answer[model]`): not a dict, not a response it builds itself."""
    wrong = []
    for name, method, path, route in ROUTES:
        said = f"{name} {method} {path}"
        if (name, method, path) in NOT_JSON:
            assert route.response_model is None, f"{said}: not JSON, yet a response model"
            continue
        if route.status_code == 204:
            assert route.response_model is None, f"{said}: 204 answers no body"
            continue
        if route.response_model is None:
            wrong.append(f"{said}: no response model (a dict or a Response?)")
        elif _returned(route) != route.response_model:
            wrong.append(
                f"{said}: returns {_returned(route)}, declares {route.response_model}: the"
                " answer is not validated and filtered by what the document says"
            )
    assert not wrong, "\n".join(wrong)


def test_every_route_that_takes_an_idempotency_key_is_idempotent() -> None:
    """The header is taken by `@idempotent` alone: a route reading it itself would answer a
    replay without the model (and without the rules of shared/idempotency.py)."""
    taking = 0
    for name, method, path, route in ROUTES:
        pending, headers = [route.dependant], set()
        while pending:
            dependant = pending.pop()
            headers |= {p.alias.lower() for p in dependant.header_params}
            pending.extend(dependant.dependencies)
        if "idempotency-key" in headers:
            taking += 1
            assert hasattr(route.endpoint, "__answer_model__"), f"{name} {method} {path}"
    assert taking >= 38


# -- @idempotent, on its own ---------------------------------------------------------------------


class Shown(BaseModel):
    id: int
    name: str


class ShownWithMore(Shown):
    national_id: str


class Other(BaseModel):
    id: int
    name: str


NO_KEY = Idempotency(None, "someone", "")  # nothing to replay or store: no database needed


async def _answer(route: Any) -> Response:
    response: Response = await route(session=object(), **{_PARAMETER: NO_KEY})
    return response


async def test_an_answer_is_sent_by_its_models_fields_alone() -> None:
    @idempotent
    async def create(session: object) -> Answer[Shown]:
        return Answer(201, ShownWithMore(id=1, name="Bounmy", national_id="secret"))

    response = await _answer(create)

    assert (response.status_code, response.body) == (201, b'{"id":1,"name":"Bounmy"}')
    assert response.media_type == "application/json"


async def test_an_answer_of_another_type_fails_loudly_before_anything_is_sent_or_stored() -> None:
    """mypy refuses `Answer(201, Other(...))` in a route declaring `Answer[Shown]`: only code
    that escaped the types (here `Any`) gets this far. It raises, so the request's transaction
    rolls back and the caller gets a 500 with nothing written: a wrong answer stored under the
    key would be replayed for good, and one sent would break the contract silently."""
    body: Any = Other(id=1, name="Bounmy")

    @idempotent
    async def create(session: object) -> Answer[Shown]:
        return Answer(201, body)

    with pytest.raises(AnswerIsNotItsModel, match="create answered Other, not Shown"):
        await _answer(create)


async def test_a_response_the_route_returns_is_sent_as_is() -> None:
    @idempotent
    async def create(session: object) -> Answer[Shown] | Response:
        return Response(b"warning", 409)

    response = await _answer(create)

    assert (response.status_code, response.body) == (409, b"warning")


def test_a_route_that_does_not_declare_its_answer_is_refused_when_defined() -> None:
    async def untyped(session: object) -> Any:
        return None

    async def a_dict(session: object) -> Answer[Shown] | dict[str, Any]:
        return {}

    routes: list[Any] = [untyped, a_dict]
    for route in routes:
        with pytest.raises(TypeError, match="returns Answer\\[Model\\]"):
            idempotent(route)


# -- what is stored is what is sent, and a replay sends it again ----------------------------------


class _Result:
    def __init__(self, stored: IdempotencyRecord | None) -> None:
        self.stored = stored

    def first(self) -> tuple[str] | None:
        # The claim's insert: a row when the key is new, none when it was claimed before.
        return ("key",) if self.stored is None else None

    def scalar_one(self) -> IdempotencyRecord | None:
        return self.stored


class _Session:
    """The statements @idempotent sends, answered as PostgreSQL would for a key claimed before
    (`stored`), and the values of the update that stores an answer (`kept`)."""

    def __init__(self, stored: IdempotencyRecord | None = None) -> None:
        self.stored = stored
        self.kept: dict[str, Any] = {}

    async def execute(self, statement: Any) -> _Result:
        if statement.is_update:
            self.kept = dict(statement.compile().params)
        return _Result(self.stored)


async def test_the_answer_stored_is_the_text_sent_and_a_replay_sends_it_again() -> None:
    @idempotent
    async def create(session: object) -> Answer[Shown]:
        return Answer(201, ShownWithMore(id=7, name="ນາງ ບົວ", national_id="secret"))

    keyed = Idempotency("key", "someone", "digest")
    first_time = _Session()
    sent: Response = await create(session=first_time, **{_PARAMETER: keyed})
    text = '{"id":7,"name":"ນາງ ບົວ"}'
    assert sent.body == text.encode()
    assert (first_time.kept["status_code"], first_time.kept["body"]) == (201, text)

    stored = IdempotencyRecord(
        principal="someone", key="key", request_hash="digest", status_code=201, body=text
    )
    replayed: Response = await create(session=_Session(stored), **{_PARAMETER: keyed})
    assert (replayed.status_code, replayed.body) == (201, sent.body)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["content-type"] == "application/json"


async def test_an_answer_stored_as_a_json_document_before_replays_as_it_was() -> None:
    """Keys claimed before answers were kept as text hold the JSON document itself."""

    @idempotent
    async def create(session: object) -> Answer[Shown]:
        raise AssertionError("a replay does not run the route")

    stored = IdempotencyRecord(
        principal="someone",
        key="key",
        request_hash="digest",
        status_code=200,
        body={"id": 7, "name": "Bua"},
    )
    keyed = Idempotency("key", "someone", "digest")
    replayed: Response = await create(session=_Session(stored), **{_PARAMETER: keyed})
    assert (replayed.status_code, replayed.body) == (200, b'{"id":7,"name":"Bua"}')
    assert replayed.headers["Idempotent-Replayed"] == "true"
