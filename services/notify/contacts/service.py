"""Reading the contact read model: a channel's standing, the contact behind a number, and
the contact that holds a merged-away person now."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.contacts.domain import Channel, ChannelStanding
from services.notify.contacts.models import Contact
from shared.readmodels import MAX_MERGE_HOPS

Found = TypeVar("Found")


class Reachable(Protocol):
    """What `standing` reads of a contact: a `Contact`, or a row of the contacts table."""

    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def sms_consent(self) -> str | None: ...
    @property
    def sms_consent_expires_on(self) -> date | None: ...
    @property
    def sms_opted_out_at(self) -> datetime | None: ...
    @property
    def email_consent(self) -> str | None: ...
    @property
    def email_consent_expires_on(self) -> date | None: ...


def standing(contact: Reachable, channel: Channel) -> ChannelStanding:
    """What the read model knows about one of the person's channels."""
    if channel == "sms":
        return ChannelStanding(
            contact.phone,
            contact.sms_consent,
            contact.sms_consent_expires_on,
            contact.sms_opted_out_at,
        )
    return ChannelStanding(contact.email, contact.email_consent, contact.email_consent_expires_on)


async def contact_by_phone(session: AsyncSession, phone: str) -> Contact | None:
    """The live (not merged) contact with this number, for inbound SMS such as STOP."""
    return await session.scalar(
        select(Contact)
        .where(Contact.phone == phone, Contact.merged_into.is_(None))
        .order_by(Contact.updated_at.desc())
        .limit(1)
    )


async def following_merges(
    fetch: Callable[[uuid.UUID], Awaitable[Found | None]], person_id: uuid.UUID
) -> Found | None:
    """What `fetch` finds (a contact, or a row with its `merged_into`) for the person, or for
    the record they were merged into: the walk of `shared.readmodels.locked_following_merges`,
    for a contact read with more than its own row (a recipient with its templates)."""
    # TODO(issue 18): belongs in shared/readmodels.py, with locked_following_merges built on it.
    row = await fetch(person_id)
    for _ in range(MAX_MERGE_HOPS):
        survivor: Any = getattr(row, "merged_into", None)
        if row is None or survivor is None:
            break
        row = await fetch(survivor)
    return row
