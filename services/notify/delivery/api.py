"""HTTP routes of delivery: the SMS gateway's webhooks (delivery receipts, inbound SMS such as
STOP), a message's status history, and the development provider's outbox.

The webhooks carry no bearer token: the gateway signs them the Standard Webhooks way with
`LABOURX_SMS_INBOUND_SECRET` (see delivery/providers.py for the contract); unset, they refuse.
"""

from __future__ import annotations

import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notify.delivery import service
from services.notify.delivery.schemas import (
    DevOutboxRead,
    InboundSmsIn,
    InboundSmsResult,
    MessageHistory,
    ReceiptIn,
    ReceiptResult,
)
from shared.app import SettingsDep
from shared.auth import Admin, OfficeStaff
from shared.db import SessionDep
from shared.problems import NotFound, Problem, Unauthorized

router = APIRouter(prefix="/v1", tags=["delivery"])
# Included in `router` (below), which gives it the /v1 prefix.
webhooks = APIRouter(tags=["delivery (gateway webhooks)"])


class WebhooksNotConfigured(Problem):
    status, slug, title = 503, "webhooks-not-configured", "Webhooks not configured"


async def signed_by_gateway(request: Request, settings: SettingsDep) -> None:
    """Admit only a request the SMS gateway signed (Standard Webhooks, five minutes' tolerance)."""
    secret = settings.sms_inbound_secret
    if secret is None:
        raise WebhooksNotConfigured("LABOURX_SMS_INBOUND_SECRET is not set")
    try:
        verifier = Webhook(secret.get_secret_value())
    except (ValueError, binascii.Error) as exc:
        raise WebhooksNotConfigured("LABOURX_SMS_INBOUND_SECRET is not a valid secret") from exc
    try:
        verifier.verify(await request.body(), dict(request.headers), json_parse=False)
    except WebhookVerificationError as exc:
        raise Unauthorized(f"webhook signature: {exc}") from exc


SignedByGateway = Depends(signed_by_gateway)


@webhooks.post(
    "/inbound/sms",
    response_model=InboundSmsResult,
    dependencies=[SignedByGateway],
    openapi_extra={"security": []},
)
async def inbound_sms(sms: InboundSmsIn, session: SessionDep) -> InboundSmsResult:
    """An SMS a person sent us. STOP (STOP ALL, UNSUBSCRIBE, ຢຸດ, ...) opts the number out and
    cancels the person's queued SMS; START opts back in. Nothing is replied."""
    return await service.receive_sms(session, sms, datetime.now(UTC))


@webhooks.post(
    "/receipts/sms",
    response_model=ReceiptResult,
    dependencies=[SignedByGateway],
    openapi_extra={"security": []},
    responses={
        404: {"description": "No message has this id or reference"},
        409: {"description": "The message is still being handed over: send the receipt again"},
    },
)
async def sms_receipt(receipt: ReceiptIn, session: SessionDep) -> ReceiptResult:
    """The gateway's delivery receipt: `sent` becomes `delivered` or `failed`."""
    return await service.apply_receipt(session, receipt, datetime.now(UTC))


@router.get("/messages/{message_id}/statuses", response_model=MessageHistory)
async def message_statuses(
    message_id: uuid.UUID, session: SessionDep, principal: OfficeStaff
) -> MessageHistory:
    """Where a message stands and every status it passed through (queued, deferrals, each
    attempt, sent, delivered or failed, cancelled), oldest first."""
    return await service.history(session, principal, message_id)


@router.get("/dev/outbox", response_model=list[DevOutboxRead])
async def dev_outbox(
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DevOutboxRead]:
    """Messages the development provider kept instead of sending, newest first."""
    if settings.env == "production":
        raise NotFound("the development outbox does not exist in production")
    rows = await service.dev_outbox(session, recipient=recipient, limit=limit)
    return [DevOutboxRead.model_validate(r) for r in rows]


router.include_router(webhooks)
