"""Everything a person's page shows, from two services, fetched at once.

The record, its consents and migration records are asked of the registry together (a reference
works wherever an id does); the messages (notify) and, for admins, the audit trail need the id,
so when the page was opened by reference they follow as soon as the record gives it (opened by
id, all five go at once). A part a service does not answer leaves that section with a word why;
the record itself is the page: without it there is no page.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from services.console.apis import notify, people
from services.console.apis.errors import ApiError, NotAllowed, TokenRefused, Unavailable

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from services.console.apis.client import Api
    from services.console.sessions.domain import Officer

T = TypeVar("T")


@dataclass
class Part(Generic[T]):
    value: T | None = None
    # Why it is missing: "unavailable" (the service did not answer) or "not_allowed".
    problem: str | None = None


@dataclass
class PersonView:
    person: people.PersonRecord
    consents: Part[list[people.Consent]] = field(default_factory=Part)
    migrations: Part[list[people.Migration]] = field(default_factory=Part)
    messages: Part[list[notify.Message]] = field(default_factory=Part)
    audit: Part[people.AuditPage] | None = None  # None: not shown to this officer


def may_administer(officer: Officer) -> bool:
    """Admins see a person's audit trail and may erase the record."""
    return officer.has("admin")


def _part(answer: Any, kind: type[T]) -> Part[T]:
    if isinstance(answer, TokenRefused):
        raise answer  # the officer must sign in again: the whole page goes there
    if isinstance(answer, Unavailable):
        return Part(problem="unavailable")
    if isinstance(answer, NotAllowed):
        return Part(problem="not_allowed")
    if isinstance(answer, BaseException):
        if isinstance(answer, ApiError):
            return Part(problem="unavailable")
        raise answer
    return Part(answer)


async def _none() -> None:
    return None


async def gather(
    api: Api, key: str, officer: Officer, *, audit_before: int | None = None
) -> PersonView:
    """The person's page, its parts fetched concurrently. Raises what reading the record
    raised (NotAllowed outside the scope, NotFound, Rejected for an erased record)."""
    admin = may_administer(officer)

    def by_id(person_id: uuid.UUID) -> list[Awaitable[Any]]:
        return [
            notify.messages_to(api, person_id),
            people.audit_trail(api, person_id, before_id=audit_before) if admin else _none(),
        ]

    first: list[Awaitable[Any]] = [
        people.get_record(api, key),
        people.consents(api, key),
        people.migrations(api, key),
    ]
    known_id = _uuid(key)
    answers = await asyncio.gather(
        *first, *(by_id(known_id) if known_id else []), return_exceptions=True
    )
    record = answers[0]
    if isinstance(record, BaseException):
        raise record
    if known_id is None:
        answers += await asyncio.gather(*by_id(record.id), return_exceptions=True)
    return PersonView(
        person=record,
        consents=_part(answers[1], list),
        migrations=_part(answers[2], list),
        messages=_part(answers[3], list),
        audit=_part(answers[4], people.AuditPage) if admin else None,
    )


def _uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None
