"""Phase 1 of a webhook pass: due deliveries locked with `FOR UPDATE SKIP LOCKED` (several job
processes share the queue), marked `in_flight` with a lease until `next_attempt_at`, their
bodies built as each partner may see them and signed, and the claim committed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, select, text

from services.notify.partners import presenting, retry, signatures
from services.notify.partners.models import Delivery, FeedEntry, Partner, Subscription
from services.notify.partners.scopes import Scope
from shared import clock

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from services.notify.partners.sharing_rules import SharingDecision
    from shared.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "labourx-webhooks/1"

_CLAIM = text(
    """
    WITH due AS (
        SELECT d.id FROM partner_deliveries d
        JOIN partner_subscriptions s ON s.id = d.subscription_id
        JOIN partners p ON p.id = d.partner_id
        WHERE d.status IN ('pending', 'in_flight') AND d.next_attempt_at <= now()
          AND s.status = 'active' AND p.active
        ORDER BY d.next_attempt_at
        LIMIT :batch
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE partner_deliveries d
    SET status = 'in_flight', attempts = d.attempts + 1, round_attempts = d.round_attempts + 1,
        last_attempt_at = now(), next_attempt_at = now() + make_interval(secs => :lease)
    FROM due WHERE d.id = due.id
    RETURNING d.id
    """
)


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]
    round_attempts: int
    # Why it could not even be prepared (then nothing is sent: the attempt fails with this).
    failure: str | None = None


async def _leased_rows(
    session: AsyncSession, settings: Settings
) -> Sequence[Row[Delivery, FeedEntry, Subscription, Partner]]:
    """Lock and lease a batch of due deliveries, with what building their webhooks needs."""
    # Long enough for the whole batch: each attempt ends within the timeout, `concurrency` at
    # a time, so a row is not claimed again while this pass may still send it.
    rounds = -(-settings.partner_webhook_batch_size // settings.partner_webhook_concurrency)
    lease = settings.partner_webhook_timeout_s * rounds + 30
    ids = list(
        (
            await session.execute(
                _CLAIM, {"batch": settings.partner_webhook_batch_size, "lease": lease}
            )
        ).scalars()
    )
    if not ids:
        return []
    return (
        await session.execute(
            select(Delivery, FeedEntry, Subscription, Partner)
            .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .join(Partner, Partner.id == Delivery.partner_id)
            .where(Delivery.id.in_(ids))
        )
    ).all()


def _signed_headers(
    settings: Settings, subscription: Subscription, msg_id: str, now: datetime, body: bytes
) -> dict[str, str]:
    """The headers of a webhook: Standard Webhooks' id, timestamp and signatures."""
    return {
        "content-type": "application/json",
        "accept-encoding": "identity",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures.signature_header(
            signatures.signing_secrets(settings, subscription, now), msg_id, now, body.decode()
        ),
    }


@dataclass(frozen=True)
class _Presenting:
    """What presenting a batch's entries needs, read once per batch."""

    master: bytes
    decisions: Mapping[uuid.UUID, Mapping[str, SharingDecision]]
    today: date
    now: datetime


def _prepared(
    settings: Settings,
    row: Row[Delivery, FeedEntry, Subscription, Partner],
    url: str,
    batch: _Presenting,
) -> Claimed | None:
    """A leased delivery ready to send, None when its entry is nothing for the partner."""
    delivery, entry, subscription, partner = row
    try:
        ref = presenting.PartnerRef.of(partner, batch.master)
        scope = Scope(subscription.scope)
        document = presenting.present(entry, ref, scope, batch.decisions, batch.today)
        if document is None:
            return None
        body = presenting.body_bytes(document)
        headers = _signed_headers(settings, subscription, str(delivery.id), batch.now, body)
    except Exception as exc:
        # One delivery that cannot be built (a bug, or data no rule foresaw) is a failed
        # attempt of that delivery, never a pass that fails for every partner.
        log.exception("a partner webhook could not be prepared")
        failure = retry.attempt_error(f"not prepared: {type(exc).__name__}: {exc}")
        return Claimed(delivery.id, url, b"", {}, delivery.round_attempts, failure)
    return Claimed(delivery.id, url, body, headers, delivery.round_attempts)


async def claim(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[Claimed]:
    """Phase 1: lock, lease and sign a batch of due deliveries, and commit."""
    async with sessions() as session, session.begin():
        rows = await _leased_rows(session, settings)
        if not rows:
            return []
        people = [e.person_id for _, e, s, _ in rows if s.scope != Scope.AGGREGATE and e.person_id]
        batch = _Presenting(
            master=presenting.master_key(settings),
            decisions=await presenting.decisions_of(session, people),
            today=clock.today(),
            now=datetime.now(UTC),
        )
        claimed: list[Claimed] = []
        for row in rows:
            url = row[2].webhook_url
            if not url:
                continue  # nothing for it (cannot happen for rows the fan-out made)
            if (prepared := _prepared(settings, row, url, batch)) is not None:
                claimed.append(prepared)
        return claimed
