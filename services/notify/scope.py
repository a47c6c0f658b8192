"""Who may read what notify holds about a person: the scope model of docs/architecture.md ("Who
sees what"), written once for notify.

A person's messages (the list, one message, its statuses) belong to the person: staff of the
person's province read them, and so do staff of an office that serves the person (registry's
PersonServedAt, kept in `contact_serving_offices`); national scope reads all. The person's
province is the contact's as registry has it now (a person who moved takes their messages
along); once the contact is erased, the province the message was written for.

One message is checked with `Principal.serves()`; lists take `visible_messages()`, the same rule
as an SQL condition.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.contacts.models import Contact, ServingOffice
from services.notify.messages.models import Message
from shared.auth import Principal


@dataclass(frozen=True)
class PersonScope:
    """What decides who reads a person's records here."""

    province_code: str | None
    serving_offices: frozenset[str]


async def person_scope(
    session: AsyncSession, person_id: uuid.UUID, fallback_province: str | None = None
) -> PersonScope:
    """The person's province (the contact's, else `fallback_province`) and serving offices."""
    province = await session.scalar(
        select(Contact.province_code).where(Contact.person_id == person_id)
    )
    offices = (
        await session.scalars(
            select(ServingOffice.office_code).where(ServingOffice.person_id == person_id)
        )
    ).all()
    return PersonScope(province or fallback_province, frozenset(offices))


async def may_read_person(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    fallback_province: str | None = None,
) -> bool:
    """Whether the principal reads this person's messages."""
    if principal.sees_all_provinces:
        return True
    scope = await person_scope(session, person_id, fallback_province)
    return principal.serves(scope.province_code, scope.serving_offices)


def visible_messages(principal: Principal) -> ColumnElement[bool]:
    """`may_read_person` for a list of messages, as SQL on `messages`."""
    if principal.sees_all_provinces:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if principal.province is not None:
        # A token without a province matches nothing (NULL never equals), never everything.
        province = func.coalesce(
            select(Contact.province_code)
            .where(Contact.person_id == Message.person_id)
            .scalar_subquery(),
            Message.province_code,
        )
        conditions.append(province == principal.province)
    if principal.office is not None:
        conditions.append(
            Message.person_id.in_(
                select(ServingOffice.person_id).where(ServingOffice.office_code == principal.office)
            )
        )
    return or_(*conditions) if conditions else false()
