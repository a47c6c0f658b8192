"""Reading messages, within the reader's scope."""

from __future__ import annotations

import uuid

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.messages.models import Message
from shared.auth import Principal
from shared.pagination import decode_cursor, encode_cursor


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: uuid.UUID | None,
    after: str | None,
    limit: int,
) -> tuple[list[Message], str | None]:
    """Newest-last page of messages the principal may see, with the cursor of the next page."""
    query = select(Message).order_by(Message.created_at, Message.id).limit(limit + 1)
    if not principal.sees_all_provinces:
        # A token without a province matches nothing (NULL never equals), never everything.
        query = query.where(Message.province_code == principal.province)
    if person_id is not None:
        query = query.where(Message.person_id == person_id)
    if after is not None:
        query = query.where(
            tuple_(Message.created_at, Message.id) > decode_cursor(after, field="after")
        )
    rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
