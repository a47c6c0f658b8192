"""Removals sent to partners for people they may hold: a person erased or merged away, or a
partner that lost their partner-sharing consent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, text, update

from services.notify.partners import redaction, sharing_rules
from services.notify.partners.feed import append
from services.notify.partners.models import (
    Delivery,
    FeedEntry,
    Partner,
    SharingConsent,
    Subscription,
)
from services.notify.partners.presenting import PartnerRef, decisions_of, master_key, subject_field
from services.notify.partners.scopes import Scope
from services.notify.partners.streams import PERSON_STREAMS, REMOVAL_TYPE, EntryKind, RemovalReason

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

_PURGE_OUTBOX = text(
    "DELETE FROM outbox WHERE topic LIKE 'partner.%' AND position(:person_id IN value) > 0"
)


async def person_level_partners(
    session: AsyncSession, master: bytes
) -> dict[uuid.UUID, PersonLevelPartner]:
    """Partners with a subscription that receives people's data at person level (pseudonymised
    or personal, under their consent), and the streams it covers."""
    rows = await session.execute(
        select(Partner, Subscription.stream)
        .join(Subscription, Subscription.partner_id == Partner.id)
        .where(
            Subscription.scope.in_((Scope.PSEUDONYMISED, Scope.PERSONAL)),
            Subscription.status != "deleted",
        )
    )
    found: dict[uuid.UUID, PersonLevelPartner] = {}
    for partner, stream in rows.all():
        ref = found.setdefault(
            partner.id, PersonLevelPartner(PartnerRef.of(partner, master), set())
        )
        ref.streams.add(stream)
    return found


@dataclass(frozen=True)
class PersonLevelPartner:
    """A partner that receives people's data at person level, and on which streams."""

    ref: PartnerRef
    streams: set[str]


async def append_removals(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    reason: RemovalReason,
    time: datetime,
    personal: Sequence[uuid.UUID],
    streams: Sequence[str],
    target: uuid.UUID | None = None,
    survivor_id: uuid.UUID | None = None,
) -> None:
    data: dict[str, Any] = {
        "reason": reason.value,
        "person_id": str(person_id),
        # Partners that held the person's data with their consent: only they are told the id.
        "personal_partner_ids": [str(p) for p in personal],
    }
    if survivor_id is not None:
        data["survivor_id"] = str(survivor_id)
    for stream in streams:
        await append(
            session,
            settings,
            stream=stream,
            kind=EntryKind.REMOVAL,
            event_type=REMOVAL_TYPE,
            time=time,
            data=data,
            person_id=person_id,
            target_partner_id=target,
        )


async def _sharing_partners(
    session: AsyncSession, settings: Settings, person_id: uuid.UUID, today: date
) -> list[uuid.UUID]:
    partners = await person_level_partners(session, master_key(settings))
    decisions = (await decisions_of(session, [person_id])).get(person_id, {})
    # A lapse not swept yet counts: the partner may still hold the data and is told the id.
    held = sharing_rules.held(decisions, today)
    return [
        p.ref.id
        for p in partners.values()
        if sharing_rules.may_share(held, p.ref.code, p.ref.category, today)
    ]


async def _drop_sharing(
    session: AsyncSession, settings: Settings, person_id: uuid.UUID, today: date
) -> list[uuid.UUID]:
    """Delete the person's sharing decisions; the partners that held their personal data under
    them (to be told to delete it)."""
    personal = await _sharing_partners(session, settings, person_id, today)
    await session.execute(delete(SharingConsent).where(SharingConsent.person_id == person_id))
    return personal


async def merge_person(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    survivor_id: uuid.UUID,
    time: datetime,
    today: date,
) -> None:
    """A duplicate record was merged away: its sharing decisions go (registry records what the
    person decides on the kept record), and partners that held its personal data are told to
    delete it and follow the survivor's pseudonym."""
    personal = await _drop_sharing(session, settings, person_id, today)
    if personal:
        await append_removals(
            session,
            settings,
            person_id=person_id,
            reason=RemovalReason.MERGED,
            time=time,
            personal=personal,
            streams=PERSON_STREAMS,
            survivor_id=survivor_id,
        )


async def erase_person(
    session: AsyncSession, settings: Settings, *, person_id: uuid.UUID, time: datetime, today: date
) -> None:
    """Purge what the feed holds of a person and tell every partner to delete them.

    Their entries keep only the aggregate view (no identifier, no pseudonym can be made from
    them), webhooks not yet sent are cancelled, partner Kafka records holding their id that the
    relay has not sent are deleted, their sharing decisions go, and a removal is appended to
    every stream that names people.
    """
    personal = await _drop_sharing(session, settings, person_id, today)
    entries = (
        await session.execute(
            select(FeedEntry).where(
                FeedEntry.person_id == person_id, FeedEntry.kind == EntryKind.EVENT
            )
        )
    ).scalars()
    throwaway = secrets.token_bytes(32)  # aggregate views hold no pseudonym; the key is unused
    purged: list[int] = []
    for entry in entries:
        entry.data = redaction.redact(entry.data, Scope.AGGREGATE, throwaway, entry.time.date())
        entry.person_id = None
        if subject_field(entry.event_type) in (*redaction.PERSON_IDS, *redaction.LINKED_IDS):
            entry.subject = None
        entry.erased_at = time
        purged.append(entry.id)
    if purged:
        await session.flush()
        await session.execute(
            update(Delivery)
            .where(Delivery.entry_id.in_(purged), Delivery.status.in_(("pending", "in_flight")))
            .values(status="cancelled", last_error="the person was erased")
        )
    # Only personal-scope records carry the raw id (pseudonymised ones are followed by the
    # removals): unsent ones are never published, sent ones are not kept until the relay's purge.
    await session.execute(_PURGE_OUTBOX, {"person_id": str(person_id).encode()})
    await append_removals(
        session,
        settings,
        person_id=person_id,
        reason=RemovalReason.ERASED,
        time=time,
        personal=personal,
        streams=PERSON_STREAMS,
    )
