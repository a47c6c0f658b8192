"""How the contact read model follows registry's events: details, consent per channel,
merges and erasures."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.contacts.domain import Channel, closes_channel
from services.notify.contacts.models import Contact
from services.notify.contacts.service import cancel_queued
from services.notify.messages.models import KnownEnrolment, Message
from shared import clock
from shared.consumer import Handler, expect
from shared.events import CloudEvent, Event
from shared.events.registry import (
    ConsentChanged,
    PersonDetails,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonUpdated,
)
from shared.readmodels import locked

CONSENT_CHANNELS: dict[str, Channel] = {"contact_sms": "sms", "contact_email": "email"}

_DETAILS = (
    "reference",
    "given_name_lo",
    "given_name_en",
    "phone",
    "email",
    "preferred_language",
    "province_code",
    "office_code",
)
_new = pg_insert(cast(Table, Contact.__table__))
# Details only: consent and opt-out are kept from their own events, never reset by an update.
_UPSERT = _new.on_conflict_do_update(
    index_elements=["person_id"],
    set_={name: _new.excluded[name] for name in _DETAILS} | {"updated_at": func.now()},
)


async def on_person_details(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """Keep how to reach the person as registry now has it."""
    details = expect(payload, PersonDetails)
    await session.execute(
        _UPSERT,
        {"person_id": details.person_id} | {name: getattr(details, name) for name in _DETAILS},
    )


async def on_consent_changed(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """A channel's consent changed; a withdrawal cancels what is still waiting on it at once."""
    consent = expect(payload, ConsentChanged)
    channel = CONSENT_CHANNELS.get(consent.purpose)
    if channel is None:
        return
    contact = await locked(session, Contact, consent.person_id)
    if contact is None:
        return
    if channel == "sms":
        contact.sms_consent, contact.sms_consent_expires_on = consent.status, consent.expires_on
    else:
        contact.email_consent, contact.email_consent_expires_on = consent.status, consent.expires_on
    if closes_channel(consent.status, consent.expires_on, clock.today()):
        await cancel_queued(session, consent.person_id, (channel,), f"consent {consent.status}")


async def on_person_merged(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The duplicate is never messaged again; a STOP it sent still holds for the survivor."""
    merged = expect(payload, PersonMerged)
    duplicate = await locked(session, Contact, merged.person_id)
    if duplicate is None:
        return
    duplicate.merged_into = merged.survivor_id
    await cancel_queued(session, merged.person_id, ("sms", "email"), "merged into another record")
    survivor = await locked(session, Contact, merged.survivor_id)
    if survivor is not None and survivor.sms_opted_out_at is None:
        survivor.sms_opted_out_at = duplicate.sms_opted_out_at


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """Drop the contact; messages stay as counted rows but keep neither address nor text."""
    erased = expect(payload, PersonErased)
    await cancel_queued(session, erased.person_id, ("sms", "email"), "person erased")
    await session.execute(delete(Contact).where(Contact.person_id == erased.person_id))
    await session.execute(
        delete(KnownEnrolment).where(KnownEnrolment.person_id == erased.person_id)
    )
    await session.execute(
        update(Message)
        .where(Message.person_id == erased.person_id)
        .values(recipient="", subject=None, body="")
        .execution_options(synchronize_session=False)
    )


HANDLERS: dict[str, Handler] = {
    PersonRegistered.event_type(): on_person_details,
    PersonUpdated.event_type(): on_person_details,
    ConsentChanged.event_type(): on_consent_changed,
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
}
