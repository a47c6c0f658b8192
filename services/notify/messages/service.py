"""Reading messages, within the reader's scope (services/notify/scope.py), and cancelling
those still waiting when a channel closes or the person goes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from services.notify.messages.models import Message, MessageStatus
from services.notify.scope import may_read_person, visible_messages
from shared.pagination import oldest_first, page_of
from shared.problems import NotFound

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.notify.contacts.domain import Channel
    from shared.auth import Principal


class MessageNotFound(NotFound):
    slug = "message-not-found"


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: uuid.UUID | None,
    after: str | None,
    limit: int,
) -> tuple[list[Message], str | None]:
    """Newest-last page of messages the principal may see, with the cursor of the next page.

    One person's messages are read whole or not at all (the person is in scope or not); a list
    of everyone's keeps the messages of people in scope."""
    query = select(Message)
    if person_id is not None:
        if not await may_read_person(
            session, principal, person_id, await _written_for(session, person_id)
        ):
            return [], None
        query = query.where(Message.person_id == person_id)
    else:
        query = query.where(visible_messages(principal))
    query = oldest_first(
        query, (Message.created_at, Message.id), after=after, limit=limit, field="after"
    )
    rows = (await session.scalars(query)).all()
    return page_of(rows, limit, lambda m: (m.created_at, m.id))


async def _written_for(session: AsyncSession, person_id: uuid.UUID) -> str | None:
    # The province a message of an erased person (no contact any more) was written for.
    return await session.scalar(
        select(Message.province_code).where(Message.person_id == person_id).limit(1)
    )


async def get_message(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> Message:
    """One message, if the principal may read the person's messages; else as if it did not
    exist (ids are not confirmed)."""
    message = await session.get(Message, message_id)
    if message is None or not await may_read_person(
        session, principal, message.person_id, message.province_code
    ):
        raise MessageNotFound(f"no message {message_id}")
    return message


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
