"""What notify does when events arrive: keep the facts messages describe, and queue the
messages each event calls for (see `domain.notices_for`), and a welcome that waited for a
channel's consent (see `domain.late_welcome_due`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ARRAY, String, Table, Text, any_, bindparam, exists, insert, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.notify.contacts.domain import (
    CHANNELS,
    CONSENT_CHANNELS,
    Channel,
    channel_open,
    closes_channel,
)
from services.notify.contacts.models import Contact
from services.notify.contacts.service import standing
from services.notify.delivery.events import message_event
from services.notify.messages.domain import (
    WELCOME_KEYS,
    Notice,
    display_name,
    late_welcome_due,
    localised,
    notices_for,
    office_name,
    priority_rank,
    session_moved,
    welcome_key,
)
from services.notify.messages.models import KnownEnrolment, KnownVacancy, Message, MessageStatus
from services.notify.messages.service import cancel_queued
from services.notify.templates.domain import sms_segments
from services.notify.templates.sandbox import RenderError, render
from services.notify.templates.service import TemplateMissing, in_use_lateral
from shared.consumer import Handler, expect
from shared.consumer.direct import Direct
from shared.events.matching import PlacementMade, ReferralStatusChanged, VacancyStatusChanged
from shared.events.predeparture import (
    EnrolmentChanged,
    OrientationCompleted,
    OrientationRequired,
    SessionStatusChanged,
)
from shared.events.registry import ConsentChanged, MigrationReturnDue, PersonRegistered
from shared.readmodels import following_merges

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.events import CloudEvent, Event
    from shared.work import Work

# When the vacancy's own event has not arrived yet (it travels on another topic).
UNKNOWN_JOB = {"lo": "ວຽກທີ່ສະເໜີ", "en": "the job offered", "th": "the job offered"}

# Built once and run with parameters: on a busy topic, building them per event cost more CPU
# than running them.
_MESSAGES = cast("Table", Message.__table__)
_STATUSES = cast("Table", MessageStatus.__table__)
_MESSAGE_FIELDS = (
    "id",
    "event_id",
    "event_type",
    "template_key",
    "priority",
    "person_id",
    "province_code",
    "channel",
    "recipient",
    "language",
    "template_id",
    "subject",
    "body",
    "segments",
    "status",
    "last_error",
    "correlation_id",
)
_new_message = (
    pg_insert(_MESSAGES)
    .values({name: bindparam(name, type_=_MESSAGES.c[name].type) for name in _MESSAGE_FIELDS})
    .on_conflict_do_nothing()
    .returning(_MESSAGES.c.id, _MESSAGES.c.status)
    .cte("new_message")
)
# The message and the first entry of its history in one statement; a redelivered event inserts
# neither (one message per event, person and channel) and returns no row.
_QUEUE_MESSAGE = (
    insert(_STATUSES)
    .from_select(
        ["message_id", "status", "detail"],
        select(_new_message.c.id, _new_message.c.status, bindparam("detail", type_=Text)),
    )
    .returning(_STATUSES.c.message_id)
)
_CONTACTS = cast("Table", Contact.__table__)
_TEMPLATES_IN_USE = {
    channel: in_use_lateral(channel, _CONTACTS.c.preferred_language) for channel in CHANNELS
}
# The person's contact, locked as `shared.readmodels.locked` locks it, with the template in use
# on each channel in their language (the `key` parameter): one round trip, not one per channel.
_RECIPIENT = (
    select(
        _CONTACTS,
        *[
            column.label(f"{channel}_template_{column.name}")
            for channel, template in _TEMPLATES_IN_USE.items()
            for column in template.c
        ],
    )
    .select_from(
        _CONTACTS.outerjoin(_TEMPLATES_IN_USE["sms"], true()).outerjoin(
            _TEMPLATES_IN_USE["email"], true()
        )
    )
    .where(_CONTACTS.c.person_id == bindparam("person_id"))
    .with_for_update(of=_CONTACTS)
)
# Run on the transaction's connection (shared.consumer.direct): every message's hot path.
_RECIPIENT_DIRECT = Direct(_RECIPIENT)
_QUEUE_MESSAGE_DIRECT = Direct(_QUEUE_MESSAGE)
# What a late welcome needs of the contact, and whether the channel had its welcome already,
# in one round trip.
_WELCOME_STANDING = Direct(
    select(
        _CONTACTS.c.registered_at,
        _CONTACTS.c.merged_into,
        _CONTACTS.c.reference,
        _CONTACTS.c.jobseeker,
        exists()
        .where(
            _MESSAGES.c.person_id == _CONTACTS.c.person_id,
            _MESSAGES.c.channel == bindparam("channel", type_=_MESSAGES.c.channel.type),
            _MESSAGES.c.template_key == any_(bindparam("keys", type_=ARRAY(String))),
        )
        .label("welcomed"),
    ).where(_CONTACTS.c.person_id == bindparam("person_id", type_=_CONTACTS.c.person_id.type))
)
_new_vacancy = pg_insert(cast("Table", KnownVacancy.__table__))
_UPSERT_VACANCY = _new_vacancy.on_conflict_do_update(
    index_elements=["vacancy_id"],
    set_={c: _new_vacancy.excluded[c] for c in ("reference", "title", "province_code")},
)
_new_enrolment = pg_insert(cast("Table", KnownEnrolment.__table__))
_UPSERT_ENROLMENT = _new_enrolment.on_conflict_do_update(
    index_elements=["enrolment_id"], set_={"status": _new_enrolment.excluded.status}
)


class _Found(dict[str, Any]):
    """A row read on the transaction's connection: its columns by name, and as attributes (as
    `standing` and the rendering read a contact)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


async def _recipient(session: AsyncSession, person_id: uuid.UUID, key: str) -> _Found | None:
    """The person's contact row with the templates of `key` in use for them (`_RECIPIENT`),
    locked and following merges (`shared.readmodels.following_merges`)."""

    async def fetch(contact_id: uuid.UUID) -> _Found | None:
        # Direct flushes what earlier events of the batch changed through the ORM first.
        row = await _RECIPIENT_DIRECT.fetchrow(session, {"person_id": contact_id, "key": key})
        return _Found(row.items()) if row is not None else None

    return await following_merges(fetch, person_id)


def _values(
    notice: Notice, contact: _Found, language: str, vacancy: KnownVacancy | None
) -> dict[str, Any]:
    """What the template is rendered with for this person, in `language`."""
    values = localised(notice.facts, language) | {
        "name": display_name(language, contact.given_name_lo, contact.given_name_en),
        # Who holds the person, by name: an MRC's migrant is not sent to "the ESC".
        "office_name": office_name(contact.office_code, language),
    }
    if notice.vacancy_id is not None:
        values["vacancy_title"] = vacancy.title if vacancy else UNKNOWN_JOB[language]
        values["vacancy_reference"] = vacancy.reference if vacancy else "-"
    return values


def _rendered(
    template_body: str, subject: str | None, values: dict[str, Any], template_id: uuid.UUID
) -> tuple[str, str | None, str, str | None]:
    """The body, title, status and error of the message: rendered and `queued`, or empty and
    `failed` with why when this person's values do not render."""
    try:
        body = render(template_body, values)
        title = render(subject, values) if subject else None
        status, error = "queued", None
    except RenderError as failure:
        # Saving renders the template with sample values; this person's values can still
        # fail it (a longer text than the sandbox allows). That message fails, with why;
        # the event's other messages and everything else it does stand.
        body, title, status = "", None, "failed"
        error = f"template_error: template {template_id} does not render: {failure}"[:500]
    return body, title, status, error


async def queue(
    work: Work,
    event: CloudEvent,
    notice: Notice,
    channels: tuple[Channel, ...] = CHANNELS,
) -> int:
    """Queue `notice` on every channel (of `channels`) the person may be reached on; returns
    how many were new (a redelivered event queues nothing twice: one message per event, person,
    channel)."""
    session = work.session
    contact = await _recipient(session, notice.person_id, notice.key)
    if contact is None:
        return 0  # never registered here, or erased: nobody to tell
    queued = 0
    today = work.today
    vacancy = await session.get(KnownVacancy, notice.vacancy_id) if notice.vacancy_id else None
    for channel in channels:
        if not channel_open(standing(contact, channel), today):
            continue
        found = contact
        template_id = found[f"{channel}_template_id"]
        if template_id is None:
            raise TemplateMissing(
                f"no {channel} template {notice.key!r} in {contact.preferred_language} or Lao"
            )
        language = found[f"{channel}_template_language"]
        subject = found[f"{channel}_template_subject"]
        values = _values(notice, contact, language, vacancy)
        body, title, status, error = _rendered(
            found[f"{channel}_template_body"], subject, values, template_id
        )
        message_id = await _QUEUE_MESSAGE_DIRECT.fetchval(
            session,
            {
                "id": uuid.uuid4(),
                "event_id": event.id,
                "event_type": event.type,
                "template_key": notice.key,
                "priority": priority_rank(notice.key),
                "person_id": contact.person_id,
                "province_code": contact.province_code,
                "channel": channel,
                "recipient": contact.phone if channel == "sms" else contact.email,
                "language": language,
                "template_id": template_id,
                "subject": title,
                "body": body,
                "segments": sms_segments(body) if channel == "sms" and body else 0,
                "status": status,
                "last_error": error,
                "correlation_id": event.correlationid,
                "detail": error or notice.key,
            },
        )
        if message_id is not None and error is not None:
            failed = await session.get(Message, message_id)
            if failed is not None:
                await message_event(
                    session, failed, "failed", failed.created_at, error_code="template_error"
                )
        elif message_id is not None:
            queued += 1
    return queued


async def on_notable_event(work: Work, event: CloudEvent, payload: Event) -> None:
    """Queue whatever the event tells the person it is about."""
    for notice in notices_for(payload):
        await queue(work, event, notice)


async def on_consent_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """A channel that closed (a withdrawal, a refusal, an expiry) cancels what still waits on it
    at once; one consented to soon after the registration still gets its welcome, once.

    Contacts (which run first) have recorded the consent; `queue` checks the channel is open."""
    consent = expect(payload, ConsentChanged)
    channel = CONSENT_CHANNELS.get(consent.purpose)
    if channel is None:
        return
    if closes_channel(consent.status, consent.expires_on, work.today):
        await cancel_queued(
            work.session, consent.person_id, (channel,), f"consent {consent.status}"
        )
        return
    await _late_welcome(work, event, consent, channel)


async def _late_welcome(
    work: Work, event: CloudEvent, consent: ConsentChanged, channel: Channel
) -> None:
    """The welcome of a channel consented to soon after the registration, if none went yet."""
    contact = await _WELCOME_STANDING.fetchrow(
        work.session,
        {"person_id": consent.person_id, "channel": channel, "keys": list(WELCOME_KEYS)},
    )
    if (
        contact is None
        or contact["merged_into"] is not None
        or not late_welcome_due(contact["registered_at"], consent.recorded_at)
    ):
        return
    if contact["welcomed"]:
        return  # one welcome per channel, whatever became of it
    facts = {"reference": contact["reference"] or "-"}
    notice = Notice(welcome_key(contact["jobseeker"]), consent.person_id, facts)
    await queue(work, event, notice, (channel,))


async def on_vacancy(work: Work, event: CloudEvent, payload: Event) -> None:
    """Keep the title and reference referral messages quote."""
    vacancy = expect(payload, VacancyStatusChanged)
    await work.session.execute(
        _UPSERT_VACANCY,
        {
            "vacancy_id": vacancy.vacancy_id,
            "reference": vacancy.reference,
            "title": vacancy.title,
            "province_code": vacancy.province_code,
            "destination_country": vacancy.destination_country,
            "overseas": vacancy.overseas,
        },
    )


async def on_enrolment(work: Work, event: CloudEvent, payload: Event) -> None:
    """Remember who holds a place in which session, then tell the person of the change."""
    enrolment = expect(payload, EnrolmentChanged)
    await work.session.execute(
        _UPSERT_ENROLMENT,
        {
            "enrolment_id": enrolment.enrolment_id,
            "session_id": enrolment.session_id,
            "person_id": enrolment.person_id,
            "status": enrolment.status,
        },
    )
    await on_notable_event(work, event, payload)


async def on_session(work: Work, event: CloudEvent, payload: Event) -> None:
    """A session was moved: everyone holding a place hears of the new time and venue.

    Cancellations are told through each person's EnrolmentChanged, not here, so nobody gets two.
    """
    changed = expect(payload, SessionStatusChanged)
    if not session_moved(changed):
        return
    people = (
        await work.session.scalars(
            select(KnownEnrolment.person_id).where(
                KnownEnrolment.session_id == changed.session_id,
                KnownEnrolment.status == "enrolled",
            )
        )
    ).all()
    facts = {"starts_at": changed.starts_at, "venue": changed.venue}
    for person_id in people:
        await queue(work, event, Notice("session_changed", person_id, facts))


HANDLERS: dict[str, Handler] = {
    PersonRegistered.event_type(): on_notable_event,
    ReferralStatusChanged.event_type(): on_notable_event,
    PlacementMade.event_type(): on_notable_event,
    OrientationRequired.event_type(): on_notable_event,
    OrientationCompleted.event_type(): on_notable_event,
    MigrationReturnDue.event_type(): on_notable_event,
    ConsentChanged.event_type(): on_consent_changed,
    EnrolmentChanged.event_type(): on_enrolment,
    SessionStatusChanged.event_type(): on_session,
    VacancyStatusChanged.event_type(): on_vacancy,
}
