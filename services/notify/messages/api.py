"""HTTP routes for messages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from services.notify.messages import service
from services.notify.messages.schemas import MessagePage, MessageRead
from shared.auth import OfficeStaff
from shared.db import SessionDep
from shared.pagination import decode_cursor
from shared.problems import InvalidField

router = APIRouter(prefix="/v1", tags=["messages"])


def _a_cursor(value: str | None) -> str | None:
    # Checked with the other parameters, so that one answer names every bad one.
    if value is not None:
        try:
            decode_cursor(value, field="after")
        except InvalidField as exc:
            raise ValueError("is not a cursor this API returned") from exc
    return value


Cursor = Annotated[str | None, Query(max_length=200), AfterValidator(_a_cursor)]


@router.get("/messages", response_model=MessagePage)
async def list_messages(
    session: SessionDep,
    principal: OfficeStaff,
    person_id: uuid.UUID | None = None,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Messages queued or sent, oldest first; page with `after=<next_cursor>`. Staff read the
    messages of their province's people and of the people their office serves."""
    rows, cursor = await service.list_messages(
        session, principal, person_id=person_id, after=after, limit=limit
    )
    return MessagePage(items=[MessageRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/messages/{message_id}",
    response_model=MessageRead,
    responses={404: {"description": "No such message, or not one of a person you serve"}},
)
async def get_message(
    message_id: uuid.UUID, session: SessionDep, principal: OfficeStaff
) -> MessageRead:
    """One message to a person the caller serves."""
    return MessageRead.model_validate(await service.get_message(session, principal, message_id))
