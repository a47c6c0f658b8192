"""Reading the contact read model: a channel's standing, the contact behind a number, and
the contact that holds a merged-away person now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from services.notify.contacts.domain import Channel, ChannelStanding
from services.notify.contacts.models import Contact

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession


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
