"""The dispatcher's claim (step 1 in delivery/dispatcher.py): due `queued` messages locked with
`FOR UPDATE SKIP LOCKED`, transactional ones first, checked (address, STOP, consent, quiet
hours, the per-number rate limit) and marked `sending` with one more attempt; what may not go
yet is deferred to when it may, what may never go is `cancelled`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, insert, or_, select, text

from services.notify.contacts.domain import channel_open
from services.notify.contacts.models import Contact
from services.notify.contacts.service import standing
from services.notify.delivery.domain import VIENTIANE, next_rate_slot, quiet_hours_end
from services.notify.delivery.models import SmsOptOut
from services.notify.delivery.providers import Outgoing
from services.notify.messages.domain import PRIORITY_RANK
from services.notify.messages.models import Message, MessageStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

TRANSACTIONAL = PRIORITY_RANK["transactional"]

# Numbers another dispatcher is claiming for are skipped this pass, not waited for: two
# dispatchers counting the same number's sends at once could both let one more through.
_LOCK_NUMBERS = text(
    "SELECT r FROM unnest(CAST(:numbers AS text[])) AS r"
    " WHERE pg_try_advisory_xact_lock(hashtextextended(r, 6016))"
)


@dataclass
class Claim:
    outgoing: list[Outgoing] = field(default_factory=list)
    deferred: int = 0
    cancelled: int = 0


async def claim_due(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> Claim:
    claim = Claim()
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(Message, Contact, SmsOptOut.phone)
                .outerjoin(Contact, Contact.person_id == Message.person_id)
                .outerjoin(
                    SmsOptOut, (Message.channel == "sms") & (SmsOptOut.phone == Message.recipient)
                )
                .where(Message.status == "queued", Message.next_attempt_at <= now)
                .order_by(Message.priority, Message.next_attempt_at)
                .limit(settings.delivery_batch_size)
                .with_for_update(of=Message, skip_locked=True)
            )
        ).all()
        if not rows:
            return claim
        today = now.astimezone(VIENTIANE).date()
        quiet_until = quiet_hours_end(now, settings.sms_quiet_start, settings.sms_quiet_end)

        go: list[Message] = []
        history: list[dict[str, object]] = []

        def cancel(message: Message, reason: str) -> None:
            message.status, message.last_error, message.updated_at = "cancelled", reason, now
            history.append({"message_id": message.id, "status": "cancelled", "detail": reason})
            claim.cancelled += 1

        def defer(message: Message, until: datetime, why: str) -> None:
            message.next_attempt_at, message.updated_at = until, now
            local = until.astimezone(VIENTIANE).strftime("%Y-%m-%d %H:%M")
            detail = f"deferred until {local} Vientiane time: {why}"
            history.append({"message_id": message.id, "status": "queued", "detail": detail})
            claim.deferred += 1

        sms_ready: list[Message] = []
        for message, contact, opted_out in rows:
            if (reason := _why_cancelled(message, contact, opted_out, today)) is not None:
                cancel(message, reason)
            elif message.channel == "sms" and quiet_until is not None:
                defer(message, quiet_until, "quiet hours")
            elif message.channel == "sms":
                sms_ready.append(message)
            else:
                go.append(message)

        if sms_ready:
            go += await _within_rate_limit(session, settings, sms_ready, now, defer)

        history += _start_sending(go, now, claim)
        if history:
            await session.flush()
            await session.execute(insert(MessageStatus), [h | {"at": now} for h in history])
    return claim


def _why_cancelled(
    message: Message, contact: Contact | None, opted_out: str | None, today: date
) -> str | None:
    """Why a queued message must not go at all (it never will), or None when it may."""
    if not message.recipient:
        return "no address (the person was erased)"
    if opted_out is not None:
        return "the number replied STOP"
    if contact is not None and contact.merged_into is not None:
        return "the person's record was merged into another"
    if contact is not None and not channel_open(
        standing(contact, "sms" if message.channel == "sms" else "email"), today
    ):
        return f"{message.channel} is closed for this person (consent or STOP)"
    return None


def _start_sending(go: list[Message], now: datetime, claim: Claim) -> list[dict[str, object]]:
    """Mark each message sending (one more attempt) and hand it to `claim`; their history."""
    history: list[dict[str, object]] = []
    for message in go:
        message.status, message.updated_at = "sending", now
        message.attempts += 1
        history.append(
            {
                "message_id": message.id,
                "status": "sending",
                "detail": f"attempt {message.attempts}",
            }
        )
        claim.outgoing.append(
            Outgoing(message.id, message.channel, message.recipient, message.subject, message.body)
        )
    return history


async def _within_rate_limit(
    session: AsyncSession,
    settings: Settings,
    messages: Sequence[Message],
    now: datetime,
    defer: Callable[[Message, datetime, str], None],
) -> list[Message]:
    """The SMS that may go now (`messages` come transactional first); the others are deferred
    to their number's next free slot, or left for the next pass when another dispatcher holds
    their number. Every SMS sent counts against a courtesy one, transactional ones only against
    a transactional one (see the dispatcher's docstring)."""
    numbers = sorted({m.recipient for m in messages})
    locked = set((await session.scalars(_LOCK_NUMBERS, {"numbers": numbers})).all())
    every: dict[str, list[datetime]] = defaultdict(list)
    transactional: dict[str, list[datetime]] = defaultdict(list)
    window_start = now - timedelta(hours=1)
    for number, at, priority in (
        await session.execute(
            select(
                Message.recipient,
                func.coalesce(Message.sent_at, Message.updated_at),
                Message.priority,
            ).where(
                Message.channel == "sms",
                Message.recipient.in_(bindparam("numbers", expanding=True)),
                or_(Message.status == "sending", Message.sent_at > window_start),
            ),
            {"numbers": sorted(locked)},
        )
    ).all():
        every[number].append(at)
        if priority == TRANSACTIONAL:
            transactional[number].append(at)
    limit = settings.sms_per_recipient_per_hour
    ready: list[Message] = []
    for message in messages:
        if message.recipient not in locked:
            continue
        urgent = message.priority == TRANSACTIONAL
        counted = (transactional if urgent else every)[message.recipient]
        slot = next_rate_slot(counted, limit, now)
        if slot is not None:
            why = (
                f"at most {limit} transactional SMS an hour"
                if urgent
                else f"at most {limit} SMS an hour, courtesy messages held back first"
            )
            defer(message, slot, why)
            continue
        every[message.recipient].append(now)
        if urgent:
            transactional[message.recipient].append(now)
        ready.append(message)
    return ready
