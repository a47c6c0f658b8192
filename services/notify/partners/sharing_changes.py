"""Partner-sharing decisions as they are recorded or lapse: a partner that loses a person's
data is sent a removal for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as datetime_time
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.notify.partners import sharing_rules
from services.notify.partners.feed import lock_feed
from services.notify.partners.models import SharingConsent
from services.notify.partners.person_removals import (
    PersonLevelPartner,
    append_removals,
    person_level_partners,
)
from services.notify.partners.presenting import decisions_of, master_key
from services.notify.partners.sharing_rules import SharingDecision
from services.notify.partners.streams import PERSON_STREAMS, RemovalReason
from shared.clock import LAO_TIME
from shared.db import clock_now

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings


async def record_consent(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    agency: str | None,
    category: str | None,
    status: str,
    expires_on: date | None,
    recorded_at: datetime,
    today: date,
) -> None:
    """Keep a partner-sharing decision; a partner that loses the person's data (pseudonymised or
    personal) is sent a removal (for that partner only) on each stream it received it on."""
    key = sharing_rules.scope_key(agency, category)
    if key is None:
        return
    partners = await person_level_partners(session, master_key(settings))
    before = (await decisions_of(session, [person_id])).get(person_id, {})
    current = before.get(key)
    if current is not None:
        stored = await session.get(SharingConsent, (person_id, key))
        if stored is not None and stored.recorded_at > recorded_at:
            return  # an older decision arriving late changes nothing
    decision = SharingDecision(status, expires_on)
    await session.merge(
        SharingConsent(
            person_id=person_id,
            scope_key=key,
            status=status,
            expires_on=expires_on,
            recorded_at=recorded_at,
            # Set either way: merge keeps what the object leaves unset. A decision already past
            # its date has its removals (if any) sent now, below, not again by the sweep.
            lapsed_swept_at=recorded_at if decision.lapsed_unswept(today) else None,
        )
    )
    held = sharing_rules.held(before, today)
    await _remove_lost_sharing(
        session,
        settings,
        partners,
        person_id=person_id,
        before=held,
        after={**held, key: decision},
        today=today,
        time=recorded_at,
    )


async def _remove_lost_sharing(
    session: AsyncSession,
    settings: Settings,
    partners: Mapping[uuid.UUID, PersonLevelPartner],
    *,
    person_id: uuid.UUID,
    before: Mapping[str, SharingDecision],
    after: Mapping[str, SharingDecision],
    today: date,
    time: datetime,
) -> None:
    """A removal, for that partner only, on each stream it receives people's data on, to every
    person-level partner that may share the person's data under `before` but not `after`."""
    for partner in partners.values():
        ref = partner.ref
        had = sharing_rules.may_share(before, ref.code, ref.category, today)
        has = sharing_rules.may_share(after, ref.code, ref.category, today)
        if had and not has:
            await append_removals(
                session,
                settings,
                person_id=person_id,
                reason=RemovalReason.CONSENT_WITHDRAWN,
                time=time,
                personal=[ref.id],
                streams=sorted(partner.streams & set(PERSON_STREAMS)),
                target=ref.id,
            )


async def sweep_lapsed_consents(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> int:
    """Treat consents in force until a date before `today` as withdrawn on the day after it:
    partners that lose the person's personal data are sent the withdrawal's removals, and the
    consent is marked swept. Returns how many consents were swept.

    Rows are claimed with `FOR UPDATE SKIP LOCKED` (several job processes may sweep at once)
    after the feed's lock, the order the consumer takes them in, so neither waits on the other.
    """
    unswept = (
        SharingConsent.status.in_(sharing_rules.IN_FORCE),
        SharingConsent.expires_on < today,
        SharingConsent.lapsed_swept_at.is_(None),
    )
    if await session.scalar(select(SharingConsent.person_id).where(*unswept).limit(1)) is None:
        return 0  # most passes: no need to hold up the feed
    await lock_feed(session)
    lapsed = list(
        (
            await session.scalars(
                select(SharingConsent)
                .where(*unswept)
                .order_by(
                    SharingConsent.expires_on, SharingConsent.person_id, SharingConsent.scope_key
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not lapsed:
        return 0
    partners = await person_level_partners(session, master_key(settings))
    decisions = await decisions_of(session, [consent.person_id for consent in lapsed])
    swept_at = await clock_now(session)
    for consent in lapsed:
        if consent.expires_on is None:
            continue  # never selected; narrows the type
        held = sharing_rules.held(decisions[consent.person_id], today)
        await _remove_lost_sharing(
            session,
            settings,
            partners,
            person_id=consent.person_id,
            before=held,
            after={**held, consent.scope_key: decisions[consent.person_id][consent.scope_key]},
            today=today,
            time=lapse_time(consent.expires_on),
        )
        consent.lapsed_swept_at = swept_at
    await session.flush()
    return len(lapsed)


def lapse_time(expires_on: date) -> datetime:
    """When a consent valid through `expires_on` lapses: the next midnight in Lao PDR."""
    return datetime.combine(expires_on + timedelta(days=1), datetime_time.min, tzinfo=LAO_TIME)
