"""Scheduled work of partner feeds: webhook deliveries, and the partners' Kafka topics.

Webhook deliveries are sent in two phases, each in a short transaction of its own, so that no
database transaction (nor its connection and row locks) is held open while a partner's server
takes its time to answer:

1. claim: due deliveries of active subscriptions are locked with `FOR UPDATE SKIP LOCKED`
   (several job processes share the queue), marked `in_flight` with a lease until
   `next_attempt_at`, their bodies built and signed, and the claim committed;
2. the POSTs go out concurrently (httpx), outside any transaction;
3. record: each outcome is written (succeeded; retried on the schedule; or failed, disabling the
   subscription when every attempt since the delivery's round began has failed and nothing else
   got through meanwhile). Only rows still `in_flight` are updated, so an erasure that cancelled
   a delivery meanwhile stands.

A sender that dies between 1 and 3 leaves rows `in_flight`; when their lease runs out they are
claimed again (at-least-once: receivers deduplicate by `webhook-id`, as the specification
asks). The job API gives a pass one transaction (`run(session, ...)`); this pass leaves it unused
and opens its own on the same engine (`session.bind`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

import httpx
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.notify.partners import domain, feed
from services.notify.partners.domain import Scope
from services.notify.partners.models import (
    Delivery,
    DeliveryAttempt,
    FeedEntry,
    Partner,
    Subscription,
)
from services.notify.partners.service import signing_secrets
from shared import clock
from shared.kafka import ensure_topics
from shared.service import PeriodicJob
from shared.settings import Settings

# Batches one pass sends before it lets the next pass start (a backlog drains over passes).
MAX_BATCHES_PER_PASS = 20
USER_AGENT = "labourx-webhooks/1"

_DELIVERIES = cast(Table, Delivery.__table__)
_SUBSCRIPTIONS = cast(Table, Subscription.__table__)
_ATTEMPTS = cast(Table, DeliveryAttempt.__table__)

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
_SUCCEEDED = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("d_id"), _DELIVERIES.c.status == "in_flight")
    .values(
        status="succeeded",
        succeeded_at=func.now(),
        last_status_code=bindparam("d_code"),
        last_error=None,
    )
)
_RETRY = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("d_id"), _DELIVERIES.c.status == "in_flight")
    .values(
        status="pending",
        next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, bindparam("d_delay")),
        last_status_code=bindparam("d_code"),
        last_error=bindparam("d_error"),
    )
)
_FAILED = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("d_id"), _DELIVERIES.c.status == "in_flight")
    .values(status="failed", last_status_code=bindparam("d_code"), last_error=bindparam("d_error"))
    .returning(_DELIVERIES.c.subscription_id, _DELIVERIES.c.round_started_at)
)
_DISABLE = text(
    """
    UPDATE partner_subscriptions
    SET status = 'disabled', disabled_at = now(), disabled_reason = :reason, updated_at = now()
    WHERE id = :id AND status = 'active'
      AND (last_success_at IS NULL OR last_success_at < :since)
    """
)


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]
    round_attempts: int


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and domain.succeeded(self.status_code)


def _sessions(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the webhook job needs a session bound to an engine")
    return async_sessionmaker(engine, expire_on_commit=False)


async def claim(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[Claimed]:
    """Phase 1: lock, lease and sign a batch of due deliveries, and commit."""
    lease = settings.partner_webhook_timeout_s + 30
    async with sessions() as session, session.begin():
        ids = list(
            (
                await session.execute(
                    _CLAIM, {"batch": settings.partner_webhook_batch_size, "lease": lease}
                )
            ).scalars()
        )
        if not ids:
            return []
        rows = list(
            (
                await session.execute(
                    select(Delivery, FeedEntry, Subscription, Partner)
                    .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
                    .join(Subscription, Subscription.id == Delivery.subscription_id)
                    .join(Partner, Partner.id == Delivery.partner_id)
                    .where(Delivery.id.in_(ids))
                )
            ).all()
        )
        personal = [e.person_id for _, e, s, _ in rows if s.scope == Scope.PERSONAL and e.person_id]
        decisions = await feed.decisions_of(session, personal)
        master = feed.master_key(settings)
        today = clock.today()
        now = datetime.now(UTC)
        claimed: list[Claimed] = []
        for delivery, entry, subscription, partner in rows:
            ref = feed.PartnerRef.of(partner, master)
            document = feed.present(entry, ref, Scope(subscription.scope), decisions, today)
            if document is None or not subscription.webhook_url:
                continue  # nothing for it (cannot happen for rows the fan-out made)
            body = feed.body_bytes(document)
            msg_id = str(delivery.id)
            headers = {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": domain.signature_header(
                    signing_secrets(settings, subscription, now), msg_id, now, body.decode()
                ),
            }
            claimed.append(
                Claimed(
                    delivery.id, subscription.webhook_url, body, headers, delivery.round_attempts
                )
            )
        return claimed


async def send_all(
    client: httpx.AsyncClient, claimed: Sequence[Claimed], concurrency: int
) -> list[Outcome]:
    """Phase 2: POST every claimed delivery, at most `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def send(item: Claimed) -> Outcome:
        async with gate:
            at = datetime.now(UTC)
            started = time.perf_counter()
            try:
                answer = await client.post(item.url, content=item.body, headers=item.headers)
                code: int | None = answer.status_code
                error = None if domain.succeeded(answer.status_code) else answer.text[:500]
            except httpx.HTTPError as exc:
                code, error = None, f"{type(exc).__name__}: {exc}"[:500]
            duration = int((time.perf_counter() - started) * 1000)
            return Outcome(item, at, code, error, duration)

    return list(await asyncio.gather(*(send(item) for item in claimed)))


async def record(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, outcomes: Sequence[Outcome]
) -> None:
    """Phase 3: write what each attempt got, schedule retries, give up and disable."""
    schedule = settings.partner_webhook_retry_schedule_s
    succeeded: list[dict[str, object]] = []
    retried: list[dict[str, object]] = []
    failed: list[dict[str, object]] = []
    for outcome in outcomes:
        params: dict[str, object] = {
            "d_id": outcome.claimed.delivery_id,
            "d_code": outcome.status_code,
        }
        if outcome.ok:
            succeeded.append(params)
            continue
        params["d_error"] = outcome.error or f"HTTP {outcome.status_code}"
        delay = domain.retry_delay(schedule, outcome.claimed.round_attempts)
        if delay is None:
            failed.append(params)
        else:
            retried.append({**params, "d_delay": delay})
    async with sessions() as session, session.begin():
        if succeeded:
            await session.execute(_SUCCEEDED, succeeded)
            ids = [p["d_id"] for p in succeeded]
            await session.execute(
                update(_SUBSCRIPTIONS)
                .where(
                    _SUBSCRIPTIONS.c.id.in_(
                        select(_DELIVERIES.c.subscription_id).where(_DELIVERIES.c.id.in_(ids))
                    )
                )
                .values(last_success_at=func.now())
            )
        if retried:
            await session.execute(_RETRY, retried)
        for params in failed:
            row = (await session.execute(_FAILED, params)).first()
            if row is not None:
                subscription_id, since = row
                await session.execute(
                    _DISABLE,
                    {
                        "id": subscription_id,
                        "since": since,
                        "reason": (
                            f"every attempt of delivery {params['d_id']} failed from"
                            f" {since.isoformat(timespec='seconds')}, and nothing else was"
                            f" delivered meanwhile (last: {params['d_error']})"
                        ),
                    },
                )
        await session.execute(
            insert(_ATTEMPTS),
            [
                {
                    "delivery_id": o.claimed.delivery_id,
                    "at": o.at,
                    "status_code": o.status_code,
                    "error": o.error,
                    "duration_ms": o.duration_ms,
                }
                for o in outcomes
            ],
        )


async def deliver_webhooks(session: AsyncSession, settings: Settings, today: date) -> int:
    """One pass: claim, send and record batches until the due queue is empty (or a limit)."""
    sessions = _sessions(session)
    handled = 0
    timeout = httpx.Timeout(settings.partner_webhook_timeout_s)
    limits = httpx.Limits(max_connections=settings.partner_webhook_concurrency)
    # Redirects are not followed: a partner's URL is where the signed body goes, nowhere else.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as client:
        for _ in range(MAX_BATCHES_PER_PASS):
            claimed = await claim(sessions, settings)
            if not claimed:
                break
            outcomes = await send_all(client, claimed, settings.partner_webhook_concurrency)
            await record(sessions, settings, outcomes)
            handled += len(claimed)
            if len(claimed) < settings.partner_webhook_batch_size:
                break
    return handled


# Topics this process has made sure of: a partner's topics are created once, not every pass.
_ENSURED: set[str] = set()


async def ensure_partner_topics(session: AsyncSession, settings: Settings, today: date) -> int:
    """Create the `partner.<code>.<stream>` topics of Kafka subscriptions that lack them.

    Topics are per partner, so they cannot be listed in the service's `publishes` for the relay
    and provisioning to create; this pass does it within seconds of a subscription. Records the
    relay meets before that wait in the outbox (the relay retries) unless the broker creates
    topics on first use.
    """
    rows = await session.execute(
        select(Partner.code, Subscription.stream)
        .join(Subscription, Subscription.partner_id == Partner.id)
        .where(Subscription.kafka.is_(True), Subscription.status != "deleted")
    )
    wanted = {domain.partner_topic(code, stream) for code, stream in rows.all()} - _ENSURED
    if wanted:
        await ensure_topics(settings, sorted(wanted))
        _ENSURED.update(wanted)
    return len(wanted)


JOBS: list[PeriodicJob] = [
    PeriodicJob("partner-webhooks", deliver_webhooks, interval_s=1.0),
    PeriodicJob("partner-topics", ensure_partner_topics, interval_s=2.0),
]
