"""Inputs that answered 500 answer a 4xx problem, each class on every route of every service
(the routes come from the OpenAPI documents, so a route added later is covered too), and the
database is as it was: `fingerprint` digests every row of the service's database before and
after.

- control characters in a path, query, header or body value (NUL made PostgreSQL fail on 18
  routes): refused at the HTTP boundary (shared/control_chars.py), each field named;
- a hand-made cursor (a date PostgreSQL's driver cannot encode): the cursor codec validates;
- a token whose claims have the wrong types (`exp` as a string verified once, then failed the
  verified-token cache on every later request): 401 on every request;
- an integrity error (a second subscription to a stream): 409 or 422 naming the constraint,
  and no log line with a value of the statement (shared/dberrors.py).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.db import SessionDep  # noqa: TC001 - the probe routes' parameter: FastAPI reads it
from shared.dberrors import RedactDatabaseErrors
from shared.idempotency import IdempotencyRecord
from tests.abuse.conftest import World, changed_tables, fingerprint

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shared.settings import Settings

SERVICE_NAMES = ["registry", "matching", "predeparture", "notify"]
NUL = "\x00"


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_text(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    schema = _resolve(schema, document)
    options = [schema, *(_resolve(o, document) for o in schema.get("anyOf", []))]
    return any(o.get("type") == "string" and "enum" not in o for o in options)


def _headers(world: World, operation: dict[str, Any]) -> dict[str, str]:
    """A partner's key for its routes, an admin's token for the others."""
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    return dict(world.owners["partner" if "APIKeyHeader" in schemes else "admin"])


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


# -- control characters --------------------------------------------------------------------------


def _poisoned(
    world: World, method: str, path: str, operation: dict[str, Any], document: dict[str, Any]
) -> tuple[str, dict[str, Any], set[str]]:
    """A request to the operation with a control character in every value it takes that is
    text (its query parameters, its JSON body's text fields, an Idempotency-Key), the path
    naming real objects; and the names the answer must give."""
    concrete = re.sub(r"\{(\w+)\}", lambda m: world.ids[m.group(1)], path)
    params = {p["name"]: f"a{NUL}b" for p in operation.get("parameters", []) if p["in"] == "query"}
    headers = {**_headers(world, operation), "Idempotency-Key": f"key{NUL}"}
    expected = {*params, "idempotency-key"}
    request: dict[str, Any] = {"params": params, "headers": headers}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = _resolve(content["application/json"]["schema"], document)
        body = {
            name: f"text{NUL}here"
            for name, field in schema.get("properties", {}).items()
            if _is_text(field, document)
        }
        if not body:  # nothing of its own is text: a note it would not read is still refused
            body = {"note": f"text{NUL}here"}
        request["json"] = body
        expected |= set(body)
    elif "text/csv" in content:
        request["content"] = f"given_name_en,sex\nSom{NUL}chai,male\n".encode()
        headers["Content-Type"] = "text/csv"
        expected.add("body")
    return concrete, request, expected


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_control_characters_are_refused_naming_each_field_on_every_route(
    service: str, world: World
) -> None:
    client = world.clients[service]
    document = await _document(client)
    before = await fingerprint(world.settings, service)
    swept = 0
    for method, path, operation in _operations(document):
        concrete, request, expected = _poisoned(world, method, path, operation, document)
        answer = await client.request(method, concrete, **request)
        assert answer.status_code == 422, (method, path, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", (method, path)
        named = {e["field"]: e["code"] for e in answer.json()["errors"]}
        assert {n: named.get(n) for n in expected} == dict.fromkeys(
            expected, "control_character"
        ), (method, path, answer.text)
        swept += 1
        if "{" in path:
            # The same in the path itself: each of its values named.
            names = re.findall(r"\{(\w+)\}", path)
            in_path = re.sub(r"\{(\w+)\}", lambda m: world.ids[m.group(1)] + "%00", path)
            answer = await client.request(method, in_path, headers=_headers(world, operation))
            assert answer.status_code == 422, (method, in_path, answer.text)
            fields = {e["field"] for e in answer.json()["errors"]}
            assert set(names) <= fields, (method, path, answer.text)
    assert swept == len(list(_operations(document))) > 10
    assert changed_tables(before, await fingerprint(world.settings, service)) == []


async def test_tab_line_feed_and_carriage_return_stay_in_text(world: World) -> None:
    """Text over several lines is text like any other: nothing refused, nothing lost."""
    draft = "ສະບາຍດີ {{ name }}\r\n\tລົງທະບຽນແລ້ວ"
    answer = await world.clients["notify"].post(
        "/v1/templates/preview",
        json={"key": "welcome", "channel": "sms", "language": "lo", "body": draft},
        headers=world.owners["admin"],
    )
    assert answer.status_code == 200, answer.text
    # (Jinja writes a line break as \n whichever way it came.)
    assert answer.json()["text"].endswith("\n\tລົງທະບຽນແລ້ວ"), answer.text


# -- cursors -------------------------------------------------------------------------------------


def _cursor(text_: str) -> str:
    return base64.urlsafe_b64encode(text_.encode()).decode().rstrip("=")


HAND_MADE = {
    "year one, with an offset": _cursor(f"0001-01-01T00:00:00+05:00|{uuid.uuid4()}"),
    "the last instant, behind UTC": _cursor(f"9999-12-31T23:59:59-05:00|{uuid.uuid4()}"),
    "no offset": _cursor(f"2026-01-01T00:00:00|{uuid.uuid4()}"),
    "not an id": _cursor("2026-01-01T00:00:00+00:00|not-an-id"),
}


async def test_a_hand_made_cursor_is_refused_naming_it_on_every_list(world: World) -> None:
    lists = 0
    for service in SERVICE_NAMES:
        client = world.clients[service]
        document = await _document(client)
        before = await fingerprint(world.settings, service)
        for method, path, operation in _operations(document):
            names = [
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p["name"] in ("cursor", "after")
            ]
            if not names:
                continue
            lists += 1
            concrete = re.sub(r"\{(\w+)\}", lambda m: world.ids[m.group(1)], path)
            for what, cursor in HAND_MADE.items():
                answer = await client.request(
                    method,
                    concrete,
                    params={names[0]: cursor},
                    headers=_headers(world, operation),
                )
                assert answer.status_code == 422, (method, path, what, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert [e["field"] for e in answer.json()["errors"]] == names, (path, what)
        assert changed_tables(before, await fingerprint(world.settings, service)) == []
    assert lists >= 10


# -- token claims --------------------------------------------------------------------------------


def _token(settings: Settings, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": f"claims-{uuid.uuid4().hex[:8]}",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 3600,
        "roles": ["esc_staff"],
        "office": "ESC-VT",
        "province": "LA-VT",
    }
    body.update(claims)
    token = jwt.encode(body, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


BAD_CLAIMS = {
    "exp as a numeric string": {"exp": str(int(time.time()) + 3600)},
    "iat as a numeric string": {"iat": str(int(time.time()))},
    "nbf as a numeric string": {"nbf": str(int(time.time()) - 60)},
    "exp as true": {"exp": True},
    "sub as a number": {"sub": 42},
    "roles as a list of objects": {"roles": [{"name": "esc_staff"}]},
    "office as an object": {"office": {"code": "ESC-VT"}},
    "province as a list of objects": {"province": [{"code": "LA-VT"}]},
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
async def test_a_token_whose_claims_have_the_wrong_types_is_refused_every_time(
    claims: dict[str, Any], world: World
) -> None:
    headers = _token(world.settings, **claims)
    for service in SERVICE_NAMES:
        client = world.clients[service]
        document = await _document(client)
        # A list every staff token may read, found in the document (no path parameter).
        method, path = next(
            (m, p)
            for m, p, op in _operations(document)
            if m == "GET" and "{" not in p and {"HTTPBearer": []} in op.get("security", [])
        )
        # Twice: the first verification filled the token cache the second used to fail on.
        for attempt in (1, 2):
            answer = await client.request(method, path, headers=headers)
            assert answer.status_code == 401, (service, path, attempt, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"


async def test_a_well_typed_token_still_works_from_its_cache(world: World) -> None:
    headers = _token(world.settings, exp=int(time.time()) + 3600)
    for _ in range(2):
        answer = await world.clients["registry"].get("/v1/offices", headers=headers)
        assert answer.status_code == 200, answer.text


# -- integrity errors and what the logs keep of them ---------------------------------------------

SECRET = "+856 20 5555 0199 Souksavanh"


class _CapturedLog:
    """What the service's own log handler writes (the one `configure_logging` installed, with
    its filters), captured while the block runs."""

    def __enter__(self) -> io.StringIO:
        self.stream = io.StringIO()
        handlers = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler)
            and any(isinstance(f, RedactDatabaseErrors) for f in h.filters)
        ]
        assert handlers, "configure_logging installs its handler on the root logger"
        self.handler = handlers[0]
        self.previous = self.handler.setStream(self.stream)
        return self.stream

    def __exit__(self, *_: object) -> None:
        self.handler.setStream(self.previous)


def _probe_router() -> APIRouter:
    """Routes that break a constraint as a careless change to a service would, and one that
    fails on a value PostgreSQL cannot read, each with SECRET among its values."""
    router = APIRouter(prefix="/probe")

    @router.post("/duplicate", status_code=201)
    async def duplicate(session: SessionDep) -> dict[str, str]:
        row = {"principal": SECRET, "key": f"k-{uuid.uuid4()}", "request_hash": SECRET}
        await session.execute(insert(IdempotencyRecord).values(**row))
        await session.execute(insert(IdempotencyRecord).values(**row))
        return {}

    @router.post("/missing", status_code=201)
    async def missing(session: SessionDep) -> dict[str, str]:
        await session.execute(
            insert(IdempotencyRecord).values(principal=SECRET, key=SECRET, request_hash=None)
        )
        return {}

    @router.post("/unreadable", status_code=201)
    async def unreadable(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT CAST(CAST(:value AS text) AS date)"), {"value": SECRET})
        return {}

    return router


async def test_an_integrity_error_is_a_409_or_422_and_no_log_line_holds_its_values(
    migrated: Settings,
) -> None:
    spec = replace(SERVICES["registry"], routers=[_probe_router()])
    app = create_app(spec, migrated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            before = await fingerprint(migrated, "registry")
            with _CapturedLog() as log:
                duplicate = await client.post("/probe/duplicate")
                missing = await client.post("/probe/missing")
                unreadable = await client.post("/probe/unreadable")
                # As the consumer runner logs a handler's failure (`%r`) and a job its pass.
                logging.getLogger("probe").warning("handler failed: %r", _integrity_error())
                logging.getLogger("probe").exception("job pass failed", exc_info=_data_error())
            after = await fingerprint(migrated, "registry")

    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["constraint"] == "idempotency_keys_pkey"
    assert missing.status_code == 422, missing.text
    assert missing.json()["type"].endswith("/constraint-violated")
    assert unreadable.status_code == 500, unreadable.text
    assert SECRET not in duplicate.text + missing.text + unreadable.text
    assert changed_tables(before, after) == []  # every probe rolled back

    written = log.getvalue()
    assert "UniqueViolationError" in written, written
    assert "idempotency_keys_pkey" in written, written
    assert "NotNullViolationError" in written, written
    assert "InvalidDatetimeFormatError" in written, written  # the 500's traceback, its class
    assert SECRET not in written, written
    assert "[parameters" not in written, written
    assert "DETAIL" not in written, written


async def test_a_second_subscription_to_a_stream_is_a_conflict_and_the_log_keeps_no_values(
    world: World,
) -> None:
    notify = world.clients["notify"]
    before = await fingerprint(world.settings, "notify")
    with _CapturedLog() as log:
        again = await notify.post(
            "/v1/partners/me/subscriptions",
            json={"stream": world.ids["stream"], "webhook_url": "https://hooks.example.org/b"},
            headers=world.owners["partner"],
        )
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert changed_tables(before, await fingerprint(world.settings, "notify")) == []
    assert "hooks.example.org" not in log.getvalue()
    assert "[parameters" not in log.getvalue()


def _integrity_error() -> Exception:
    """An IntegrityError as SQLAlchemy raises it, with its statement, values and DETAIL."""
    return _raised("INSERT INTO t VALUES ($1)", "23505")


def _data_error() -> Exception:
    return _raised("SELECT CAST($1 AS date)", "22007")


def _raised(statement: str, sqlstate: str) -> Exception:
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    driver_class = asyncpg.exceptions.PostgresError.get_message_class_for_sqlstate(sqlstate)
    driver = driver_class(f'value "{SECRET}"\nDETAIL:  Key (phone)=({SECRET}) already exists.')
    try:
        try:
            raise driver
        except asyncpg.PostgresError as exc:
            raise DBAPIError.instance(statement, (SECRET,), exc, Exception) from exc
    except DBAPIError as wrapped:
        return wrapped
