"""What notify does when events arrive."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.messages.domain import display_name, render, sms_segments
from services.notify.messages.models import Contact, Message, Template
from shared.consumer import PoisonEvent
from shared.events import CloudEvent, Event
from shared.events.registry import PersonErased, PersonRegistered

WELCOME = "welcome"
FALLBACK_LANGUAGE = "lo"


class TemplateMissing(PoisonEvent):
    """No template for a message: dead-lettered, replayed once an admin adds one."""


# Statements built once and run with parameters: on a busy topic, building them per event
# cost more CPU than running them.
_new_contact = pg_insert(cast(Table, Contact.__table__))
_UPSERT_CONTACT = _new_contact.on_conflict_do_update(
    index_elements=["person_id"],
    set_={
        "phone": _new_contact.excluded.phone,
        "preferred_language": _new_contact.excluded.preferred_language,
    },
)
_INSERT_MESSAGE = pg_insert(cast(Table, Message.__table__)).on_conflict_do_nothing()
_TEMPLATE = (
    select(Template)
    .where(
        Template.key == bindparam("key"),
        Template.channel == bindparam("channel"),
        Template.language.in_([bindparam("language"), FALLBACK_LANGUAGE]),
    )
    # The person's language first, then Lao; the newest version of either.
    .order_by((Template.language == bindparam("language")).desc(), Template.version.desc())
    .limit(1)
)


async def active_template(session: AsyncSession, key: str, channel: str, language: str) -> Template:
    """Newest version of a template in `language`, else in Lao."""
    template = await session.scalar(
        _TEMPLATE, {"key": key, "channel": channel, "language": language}
    )
    if template is not None:
        return template
    raise TemplateMissing(f"no {channel} template {key!r} in {language} or {FALLBACK_LANGUAGE}")


async def on_person_registered(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """Keep the contact and queue the welcome SMS."""
    if not isinstance(payload, PersonRegistered):
        raise PoisonEvent(f"expected PersonRegistered, got {type(payload).__name__}")
    await session.execute(
        _UPSERT_CONTACT,
        {
            "person_id": payload.person_id,
            "phone": payload.phone,
            "preferred_language": payload.preferred_language,
            "province_code": payload.province_code,
        },
    )
    if payload.phone is None:
        return
    template = await active_template(session, WELCOME, "sms", payload.preferred_language)
    body = render(
        template.body,
        {
            "name": display_name(template.language, payload.given_name_lo, payload.given_name_en),
            "reference": payload.reference,
        },
    )
    await session.execute(
        _INSERT_MESSAGE,
        {
            "id": uuid.uuid4(),
            "event_id": event.id,
            "event_type": event.type,
            "person_id": payload.person_id,
            "province_code": payload.province_code,
            "channel": "sms",
            "recipient": payload.phone,
            "language": template.language,
            "template_id": template.id,
            "body": body,
            "segments": sms_segments(body),
            "status": "queued",
            "correlation_id": event.correlationid,
        },
    )


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The person was erased in registry: drop the contact, blank what messages said.

    Messages stay as rows (delivery counts by province and channel must not change) but keep
    neither the number nor the text, which carried the person's name.
    """
    if not isinstance(payload, PersonErased):
        raise PoisonEvent(f"expected PersonErased, got {type(payload).__name__}")
    await session.execute(delete(Contact).where(Contact.person_id == payload.person_id))
    await session.execute(
        update(Message)
        .where(Message.person_id == payload.person_id)
        .values(recipient="", body="")
        .execution_options(synchronize_session=False)
    )


HANDLERS = {
    PersonRegistered.event_type(): on_person_registered,
    PersonErased.event_type(): on_person_erased,
}
