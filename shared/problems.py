"""RFC 9457 problem+json: one error hierarchy, mapped to responses in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from shared import dberrors
from shared.context import current_request_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fastapi import FastAPI, Request

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://labourx.la/problems/"

log = logging.getLogger(__name__)


class Problem(Exception):
    """A domain error that becomes a problem+json response with a stable `type`."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    # Headers the answer carries beside its body (`Retry-After` on a 429); set per instance.
    headers: dict[str, str] = {}

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Not authenticated"


class InvalidField(Problem):
    """A rule about one field that pydantic could not express; names the field."""

    status, slug, title = 422, "validation-error", "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}",
            errors=[{"field": field, "message": message, "code": "invalid"}],
        )


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request, named as the client sent it (`rows.3.module_code`)."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class InvalidFields(Problem):
    """Several bad fields at once, each named, in one 422 (the same shape as pydantic's)."""

    status, slug, title = 422, "validation-error", "Invalid request"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        fields = ", ".join(dict.fromkeys(e.field for e in errors))
        super().__init__(f"invalid fields: {fields}", errors=[e.as_dict() for e in errors])


class ProblemFieldError(BaseModel):
    """One bad field of a request, as a problem's `errors` lists it."""

    field: str = Field(description="The field as the client sent it: `rows.3.module_code`")
    message: str
    code: str = Field(description="A stable code: `missing`, `string_too_long`, `invalid`, ...")


class ProblemDocument(BaseModel):
    """An RFC 9457 problem (`application/problem+json`): what every error of labourx answers.
    Some carry more members (`current_version` on a 412, the candidates of a duplicate)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A stable URI per kind of problem, under " + TYPE_BASE)
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = Field(None, description="Quote it when reporting a 500")
    errors: list[ProblemFieldError] | None = Field(
        None, description="Every bad field of the request, each named (422)"
    )


def problem_response(
    status: int, slug: str, title: str, detail: str, instance: str | None = None, **ext: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if (request_id := current_request_id()) is not None:
        body["request_id"] = request_id
    body.update(ext)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    # Drop the leading "body"/"query"/"path" so the name is what the client sent.
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in {"body", "query", "path", "header"}
        else [str(p) for p in loc]
    )
    # pydantic marks an invalid dict key with a trailing "[key]"; the key itself names the field.
    parts = [p for p in parts if p != "[key]"]
    return ".".join(parts) or str(loc[0] if loc else "body")


# What FastAPI's 400 says when it cannot read a body (its own HTTPException, no subclass).
_BODY_UNREADABLE = "There was an error parsing the body"
# Unique, exclusion and foreign key violations: the state of other records, not the value sent.
_CONFLICTS = frozenset({"23505", "23P01", "23503"})
# Where a database outage surfaces: SQLAlchemy's errors (a statement's, a connect's wrapped
# driver error, the pool's timeout), asyncpg's own, and the socket's. Handled here, inside the
# app, so that a 503 is answered like any problem and not raised again for the server to log.
_MAYBE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
# Seconds a client waits before trying again: a restart or a failover takes a few.
RETRY_AFTER_S = 5


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error the API can raise to problem+json."""
    # `exception_handler(kind)(handler)`, the decorator's own form: add_exception_handler's
    # signature takes only handlers of plain `Exception`, which the type checker holds to.
    app.exception_handler(Problem)(_problem)
    app.exception_handler(RequestValidationError)(_invalid)
    # Starlette's class, not FastAPI's subclass: the router's own 404 and 405 and FastAPI's
    # "error parsing the body" are Starlette's, and answered plain JSON before.
    app.exception_handler(HTTPException)(_http)
    app.exception_handler(IntegrityError)(_integrity)
    for kind in _MAYBE_UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)
    app.exception_handler(Exception)(_unexpected)


# The handlers are module-level functions, one per kind of error, so that each reads on its
# own; install_problem_handlers above is the one place that says which error goes to which.


async def _problem(request: Request, exc: Problem) -> JSONResponse:
    answer = problem_response(
        exc.status, exc.slug, exc.title, exc.detail, request.url.path, **exc.extensions
    )
    answer.headers.update(exc.headers)
    return answer


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field_path(tuple(e["loc"])), "message": e["msg"], "code": e["type"]}
        for e in exc.errors()
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422,
        "validation-error",
        "Invalid request",
        f"invalid fields: {fields}",
        request.url.path,
        errors=errors,
    )


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == _BODY_UNREADABLE:
        # A body FastAPI could not decode (not UTF-8, a broken form): a bad field like any
        # other, as a JSON syntax error already is.
        return problem_response(
            422,
            "validation-error",
            "Invalid request",
            "invalid fields: body",
            request.url.path,
            errors=[FieldError("body", "could not be read as its Content-Type says").as_dict()],
        )
    slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}.get(
        exc.status_code, "http-error"
    )
    answer = problem_response(
        exc.status_code, slug, str(exc.detail), str(exc.detail), request.url.path
    )
    answer.headers.update(exc.headers or {})  # `Allow` on a 405
    return answer


async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
    # A constraint the domain did not check first (or a race two requests ran): the
    # transaction is rolled back by the session dependency, and the client learns which
    # rule it broke. Logged without the statement or the row PostgreSQL quotes in DETAIL.
    facts = dberrors.facts(exc)
    status = 409 if facts.sqlstate in _CONFLICTS else 422
    log.warning("%s answered %d", facts.describe(), status, extra={"constraint": facts.constraint})
    what = f" ({facts.constraint})" if facts.constraint else ""
    if status == 409:
        return problem_response(
            409,
            "conflict",
            "Conflict",
            f"this conflicts with a record that exists already, or one it needs is gone{what}",
            request.url.path,
            constraint=facts.constraint,
        )
    return problem_response(
        422,
        "constraint-violated",
        "Invalid request",
        f"a value breaks a rule of the record{what}",
        request.url.path,
        constraint=facts.constraint,
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    if not dberrors.is_unavailable(exc):
        return _internal_error(request, exc)
    # Try again: the request's transaction was rolled back by the session dependency.
    log.warning("database unavailable, answered 503: %r", exc)
    answer = problem_response(
        503,
        "service-unavailable",
        "Service unavailable",
        "the database is not answering or is busy; nothing was saved, try again shortly",
        request.url.path,
    )
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request, exc)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # The logging filter (shared/dberrors.py) keeps a database error's values out of this.
    log.error("unhandled error", exc_info=exc)
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        "the request failed; nothing was saved",
        request.url.path,
    )
