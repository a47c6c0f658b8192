"""`Idempotency-Key` for HTTP writes: a retried request gets the first answer, never a second write.

The key is claimed with an insert in the request's own transaction. A concurrent retry blocks on
the unique key until the first commits, then reads its stored answer; if the first rolled back,
the retry claims the key and runs.

A stored answer belongs to the identity it was authorised for: the token's subject together
with every claim scope is decided by (roles, office, province, national scope, agency). The
same `sub` with another office or role is another identity, whose request finds no stored
answer and runs as a fresh one, through every check of its route (docs/security.md, "Who may
touch what").
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, ParamSpec, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import DateTime, Integer, String, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import Principal, principal_of
from shared.db import Base
from shared.problems import Problem


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    # `identity(principal)`: whom the stored answer was given to.
    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def identity(principal: Principal) -> str:
    """Whom an answer is stored for: a digest of the subject and of every claim that decides what
    it may see and do. Replaying an answer to anyone else would hand over what their own request
    may be refused (a person's record to an officer of another province, an admin's answer to a
    token of the same `sub` without the role); a digest also keeps a long `sub` within the
    column."""
    claims = [
        principal.subject,
        sorted(principal.roles),
        principal.office,
        principal.province,
        principal.national,
        principal.agency,
    ]
    return hashlib.sha256(json.dumps(claims).encode()).hexdigest()


class Idempotency:
    """The request's idempotency key, if it sent one."""

    def __init__(self, key: str | None, principal: str, request_hash: str) -> None:
        self.key = key
        self.principal = principal
        self.request_hash = request_hash

    async def replay(self, session: AsyncSession) -> Response | None:
        """Claim the key, or return the stored answer of the request that claimed it first."""
        if self.key is None:
            return None
        claimed = await session.execute(
            insert(IdempotencyRecord)
            .values(principal=self.principal, key=self.key, request_hash=self.request_hash)
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        if claimed.first() is not None:
            return None
        stored = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == self.principal,
                    IdempotencyRecord.key == self.key,
                )
            )
        ).scalar_one()
        if stored.request_hash != self.request_hash:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request", field="Idempotency-Key"
            )
        replayed = {"Idempotent-Replayed": "true"}
        status_code = stored.status_code or 200
        if isinstance(stored.body, str):
            return Response(
                stored.body.encode(), status_code, replayed, media_type="application/json"
            )
        # Stored before answers were kept as sent (a JSON document, not its text): its fields
        # as they were, in the order PostgreSQL keeps them.
        return JSONResponse(stored.body, status_code=status_code, headers=replayed)

    async def forget(self, session: AsyncSession) -> None:
        """Give the claim back (same transaction): the next request with the key runs."""
        if self.key is not None:
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.principal == self.principal,
                    IdempotencyRecord.key == self.key,
                )
            )

    async def remember(self, session: AsyncSession, status_code: int, content: bytes) -> Response:
        """Store the answer with the claim (same transaction) and return it.

        `body` keeps the answer's JSON text as sent, as a JSON string: a replay sends the same
        bytes (a JSON document in JSONB would come back with its keys reordered), and searching
        the column's text for an id or a name (erasure) still finds it."""
        if self.key is not None:
            await session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.principal == self.principal,
                    IdempotencyRecord.key == self.key,
                )
                .values(status_code=status_code, body=content.decode())
                .execution_options(synchronize_session=False)
            )
        return Response(content, status_code, media_type="application/json")


async def _idempotency(
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Idempotency:
    """Solved after the route's own dependencies (its parameter comes last): the principal is
    the one they authenticated, else (a route that reads no token) this reads it."""
    principal = await principal_of(request)
    if idempotency_key is None:
        return Idempotency(None, principal.subject, "")  # nothing to compare: skip the hashing
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    return Idempotency(idempotency_key, identity(principal), fingerprint)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]


Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Answer(Generic[Model]):
    """What an `@idempotent` route answers the first time: stored under the key and replayed.

    The route declares what it answers by its return annotation, `-> Answer[PersonRead]`: the
    body must be that model (mypy checks it), and is sent as that model, by its fields alone."""

    status_code: int
    body: Model
    # Sent with this answer only, not stored: a replay answers with the body and status alone.
    headers: dict[str, str] | None = None


class AnswerIsNotItsModel(TypeError):
    """An `@idempotent` route answered a body that is not the model it declares: a bug, refused
    before anything is stored or sent (the request's transaction rolls back)."""


P = ParamSpec("P")

# The parameter `@idempotent` adds to the route's signature, for FastAPI to fill.
_PARAMETER = "idempotency_"


def answer_model(route: Callable[..., Any]) -> type[BaseModel]:
    """The model `Model` of a route returning `Answer[Model]` (or `Answer[Model] | Response`, a
    response it does not keep)."""
    try:
        returned = typing.get_type_hints(route)["return"]
    except (KeyError, NameError) as exc:
        raise TypeError(f"{route.__name__}: an idempotent route returns Answer[Model]") from exc
    union = typing.get_origin(returned) in (typing.Union, types.UnionType)
    declared = typing.get_args(returned) if union else (returned,)
    models = [typing.get_args(t)[0] for t in declared if typing.get_origin(t) is Answer]
    others = [t for t in declared if typing.get_origin(t) is not Answer]
    if len(models) != 1 or not all(isinstance(t, type) and issubclass(t, Response) for t in others):
        raise TypeError(
            f"{route.__name__}: an idempotent route returns Answer[Model], or Answer[Model] | "
            f"Response for an answer not to keep; not {returned}"
        )
    model: type[BaseModel] = models[0]
    return model


def idempotent(
    route: Callable[P, Awaitable[Answer[Model] | Response]],
) -> Callable[P, Awaitable[Response]]:
    """Make a write route idempotent: a request with a key it already answered gets the stored
    answer (`Idempotent-Replayed: true`, the same bytes) without running the route; otherwise
    the route runs and its `Answer` is sent as its declared model (only the model's fields, as
    FastAPI's `response_model` would) and stored with the key, in the route's own transaction
    (its `session`), so a rollback forgets both. The route states only its own work.

    A route may instead return a `Response`, an answer not to keep (registration's probable
    duplicate warning, committed with its audit): it is sent as is and the key is given back, so
    the same key sent again, once the caller decided, runs the request rather than replays.

    A body that is not the declared model raises `AnswerIsNotItsModel`: mypy refuses such a
    route, so only code that escaped the types gets there, and a 500 with nothing written or
    stored is the honest answer (a stored wrong answer would be replayed for good)."""
    signature = inspect.signature(route)
    if "session" not in signature.parameters:
        raise TypeError(f"{route.__name__}: an idempotent route needs its `session` parameter")
    model = answer_model(route)
    adapter: TypeAdapter[BaseModel] = TypeAdapter(model)

    @functools.wraps(route)
    async def answering(*args: P.args, **kwargs: P.kwargs) -> Response:
        idempotency: Idempotency = kwargs.pop(_PARAMETER)  # type: ignore[assignment]
        session: AsyncSession = kwargs["session"]  # type: ignore[assignment]
        if (replayed := await idempotency.replay(session)) is not None:
            return replayed
        answer = await route(*args, **kwargs)
        if isinstance(answer, Response):
            await idempotency.forget(session)
            return answer
        if not isinstance(answer.body, model):
            raise AnswerIsNotItsModel(
                f"{route.__name__} answered {type(answer.body).__name__}, not {model.__name__}"
            )
        # As FastAPI sends a response model: by alias, the declared type's fields only (a
        # subclass's extra fields are not sent).
        content = adapter.dump_json(answer.body, by_alias=True)
        response = await idempotency.remember(session, answer.status_code, content)
        response.headers.update(answer.headers or {})
        return response

    added = inspect.Parameter(_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyDep)
    # FastAPI reads this signature: the added dependency, and the model it answers (its
    # `response_model` when the route decorator names none).
    answering.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), added], return_annotation=model
    )
    answering.__answer_model__ = model  # type: ignore[attr-defined]
    return answering
