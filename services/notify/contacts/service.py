"""Reading the contact read model and acting on a channel that closed."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.contacts.domain import Channel, ChannelStanding
from services.notify.contacts.models import Contact
from services.notify.messages.models import Message, MessageStatus


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


async def cancel_queued(
    session: AsyncSession, person_id: uuid.UUID, channels: tuple[Channel, ...], reason: str
) -> int:
    """Cancel the person's messages still waiting on `channels` (nothing goes out after a
    withdrawal, a STOP or an erasure); returns how many were cancelled."""
    cancelled = list(
        (
            await session.scalars(
                update(Message)
                .where(
                    Message.person_id == person_id,
                    Message.channel.in_(channels),
                    Message.status == "queued",
                )
                .values(status="cancelled", last_error=reason)
                .returning(Message.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if cancelled:
        await session.execute(
            insert(MessageStatus),
            [{"message_id": m, "status": "cancelled", "detail": reason} for m in cancelled],
        )
    return len(cancelled)


async def contact_by_phone(session: AsyncSession, phone: str) -> Contact | None:
    """The live (not merged) contact with this number, for inbound SMS such as STOP."""
    return await session.scalar(
        select(Contact)
        .where(Contact.phone == phone, Contact.merged_into.is_(None))
        .order_by(Contact.updated_at.desc())
        .limit(1)
    )
