"""What delivery's routes do: opt-outs from inbound SMS, gateway receipts, a message's history,
the development outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from services.notify.contacts.service import contact_by_phone
from services.notify.delivery.domain import inbound_keyword, receipt_outcome
from services.notify.delivery.events import message_event
from services.notify.delivery.models import DevOutboxMessage, InboundSms, SmsOptOut
from services.notify.delivery.schemas import (
    InboundAction,
    InboundSmsIn,
    InboundSmsResult,
    MessageHistory,
    ReceiptIn,
    ReceiptResult,
    StatusRead,
)
from services.notify.messages.models import Message, MessageStatus
from services.notify.messages.service import MessageNotFound, cancel_queued, get_message
from shared.problems import Conflict
from shared.reference.phones import normalise_phone

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

STOP_REASON = "the person replied STOP"


class ReceiptTooEarly(Conflict):
    """The receipt overtook our record of the hand-over: the gateway should send it again."""

    slug = "receipt-too-early"


def _number(raw: str) -> str:
    # Gateways send the sender in E.164 or national form; contacts hold E.164.
    try:
        return normalise_phone(raw)
    except ValueError:
        return raw.strip()


async def receive_sms(session: AsyncSession, sms: InboundSmsIn, now: datetime) -> InboundSmsResult:
    """Record an inbound SMS and act on STOP (opt the number and its contact out, cancel their
    queued SMS) or START (opt back in); anything else is kept for staff to read."""
    phone = _number(sms.sender)
    keyword = inbound_keyword(sms.text)
    action: InboundAction = (
        "opted_out" if keyword == "stop" else "opted_in" if keyword == "start" else "no_keyword"
    )
    contact = await contact_by_phone(session, phone)
    person_id = contact.person_id if contact is not None else None
    inbound_id = await session.scalar(
        insert(InboundSms)
        .values(
            provider_id=sms.id,
            sender=phone,
            text=sms.text,
            keyword=keyword,
            person_id=person_id,
            action=action,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider_id"])
        .returning(InboundSms.id)
    )
    if inbound_id is None:
        # The gateway delivered this webhook before: acted on then, not again.
        return InboundSmsResult(action=action, person_id=person_id, cancelled=0, duplicate=True)
    cancelled = 0
    if keyword == "stop":
        await session.execute(
            insert(SmsOptOut)
            .values(phone=phone, opted_out_at=now, inbound_id=inbound_id)
            .on_conflict_do_nothing(index_elements=["phone"])
        )
        if contact is not None:
            if contact.sms_opted_out_at is None:
                contact.sms_opted_out_at = now
            cancelled = await cancel_queued(session, contact.person_id, ("sms",), STOP_REASON)
    elif keyword == "start":
        await session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
        if contact is not None:
            contact.sms_opted_out_at = None
    return InboundSmsResult(action=action, person_id=person_id, cancelled=cancelled)


async def apply_receipt(session: AsyncSession, receipt: ReceiptIn, now: datetime) -> ReceiptResult:
    """Move a sent message to `delivered` or `failed` as the gateway's receipt says, with its
    history row and event; a receipt that changes nothing (repeated, late) is acknowledged."""
    query = select(Message).with_for_update()
    if receipt.reference is not None:
        query = query.where(Message.id == receipt.reference)
    else:
        query = query.where(Message.provider_message_id == receipt.id).limit(1)
    message = await session.scalar(query)
    if message is None or (
        receipt.reference is not None
        and receipt.id is not None
        and message.provider_message_id not in (None, receipt.id)
    ):
        raise MessageNotFound("no message has this id or reference")
    if message.status == "sending":
        raise ReceiptTooEarly("the message is still being handed over; send the receipt again")
    target = receipt_outcome(message.status, message.last_error, receipt.status)
    if target is None:
        return ReceiptResult(message_id=message.id, status=message.status, changed=False)
    if message.provider_message_id is None and receipt.id is not None:
        message.provider_message_id = receipt.id
    message.status = target
    if target == "delivered":
        message.last_error = None
        detail = "receipt: delivered"
        await message_event(session, message, "delivered", now)
    else:
        code = f"receipt_{receipt.status}"
        detail = f"{code}: {receipt.error}" if receipt.error else code
        message.last_error = detail
        await message_event(
            session,
            message,
            "failed",
            now,
            error_code=code,
            after_sent=message.sent_at is not None,
        )
    session.add(MessageStatus(message_id=message.id, status=target, detail=detail, at=now))
    return ReceiptResult(message_id=message.id, status=target, changed=True)


async def history(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> MessageHistory:
    """A message with every status it passed through, if the principal may read the person's
    messages (else, as if it did not exist)."""
    message = await get_message(session, principal, message_id)
    statuses = (
        await session.scalars(
            select(MessageStatus)
            .where(MessageStatus.message_id == message_id)
            .order_by(MessageStatus.id)
        )
    ).all()
    return MessageHistory(
        id=message.id,
        person_id=message.person_id,
        channel=message.channel,
        template_key=message.template_key,
        priority=message.priority,
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        sent_at=message.sent_at,
        provider_message_id=message.provider_message_id,
        last_error=message.last_error,
        statuses=[StatusRead.model_validate(s) for s in statuses],
    )


async def dev_outbox(
    session: AsyncSession, *, recipient: str | None, limit: int
) -> list[DevOutboxMessage]:
    """What the development provider kept, newest first."""
    query = select(DevOutboxMessage).order_by(DevOutboxMessage.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(DevOutboxMessage.recipient == recipient)
    return list((await session.scalars(query)).all())
