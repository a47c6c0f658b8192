"""Webhook deliveries: the scheduled pass that claims, sends and records them.

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

Unless private addresses are allowed (`partner_webhook_allow_private_addresses`; by default only
outside production), each host is resolved here and every address it resolves to checked before
anything is sent, and the POST goes to that vetted address: were httpx to look the name up again,
a DNS server answering a public address first and 10.0.0.5 next (DNS rebinding) would get past a
check made at subscription time alone. Such an attempt fails with `blocked_address`.

A sender that dies between 1 and 3 leaves rows `in_flight`; when their lease runs out they are
claimed again (at-least-once: receivers deduplicate by `webhook-id`, as the specification
asks). The job API gives a pass one transaction (`work.session`); this pass leaves it unused and
opens its own from the runner's session factory (`work.sessions`).

The HTTP clients live for one pass, not as long as the runner: `WebhookClient` resolves and
vets each host once per pass, so no vetted address is trusted for longer than a pass."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from prometheus_client import Counter
from sqlalchemy import Table, bindparam, func, insert, select, text, update

from services.notify.partners import retry
from services.notify.partners.models import Delivery, DeliveryAttempt, Subscription
from services.notify.partners.webhook_claims import Claimed, claim
from services.notify.partners.webhook_client import Unsendable, WebhookClient

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings
    from shared.work import Work

# Batches one pass sends before it lets the next pass start (a backlog drains over passes).
MAX_BATCHES_PER_PASS = 20

_DELIVERIES = cast("Table", Delivery.__table__)
_SUBSCRIPTIONS = cast("Table", Subscription.__table__)
_ATTEMPTS = cast("Table", DeliveryAttempt.__table__)

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
class Outcome:
    claimed: Claimed
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and retry.succeeded(self.status_code)


async def send_all(
    client: WebhookClient, claimed: Sequence[Claimed], concurrency: int, deadline_s: float
) -> list[Outcome]:
    """Phase 2: POST every claimed delivery, at most `concurrency` at a time, each within
    `deadline_s`; every delivery gets an outcome, whatever happens to the others."""
    gate = asyncio.Semaphore(concurrency)

    async def send(item: Claimed) -> Outcome:
        async with gate:
            at = datetime.now(UTC)
            started = time.perf_counter()
            code: int | None = None
            if item.failure is not None:
                error: str | None = item.failure
            else:
                try:
                    # A deadline for the whole attempt (lookup, connect, send, answer): httpx's
                    # timeouts are per read, which a server answering a byte at a time resets.
                    async with asyncio.timeout(deadline_s):
                        answer = await client.post(item.url, item.body, item.headers)
                    code = answer.status_code
                    error = (
                        None
                        if retry.succeeded(answer.status_code)
                        else retry.attempt_error(answer.text)
                    )
                except Unsendable as exc:
                    error = retry.attempt_error(str(exc))
                except TimeoutError:
                    error = f"TimeoutError: no answer within {deadline_s:g} s"
                except Exception as exc:
                    # Whatever one delivery raises (an unparseable URL stored long ago, a
                    # protocol error, a bug) is a failed attempt of that delivery alone: the
                    # pass records every other outcome, and it is retried on its schedule.
                    error = retry.attempt_error(f"{type(exc).__name__}: {exc}")
            duration = int((time.perf_counter() - started) * 1000)
            return Outcome(item, at, code, error, duration)

    return list(await asyncio.gather(*(send(item) for item in claimed)))


WEBHOOK_ATTEMPTS = Counter(
    "labourx_partner_webhook_attempts_total",
    "Partner webhook attempts recorded, by outcome (succeeded, retried, failed: given up)",
    ["outcome"],
)


Params = dict[str, object]


def _sorted_outcomes(
    schedule: Sequence[float], outcomes: Sequence[Outcome]
) -> tuple[list[Params], list[Params], list[Params]]:
    """The outcomes as update parameters: succeeded, to retry (with their delay), given up."""
    succeeded: list[Params] = []
    retried: list[Params] = []
    failed: list[Params] = []
    for outcome in outcomes:
        params: Params = {"d_id": outcome.claimed.delivery_id, "d_code": outcome.status_code}
        if outcome.ok:
            succeeded.append(params)
            continue
        params["d_error"] = outcome.error or f"HTTP {outcome.status_code}"
        delay = retry.retry_delay(schedule, outcome.claimed.round_attempts)
        if delay is None:
            failed.append(params)
        else:
            retried.append({**params, "d_delay": delay})
    return succeeded, retried, failed


async def _give_up(session: AsyncSession, params: Params) -> None:
    """Mark a delivery failed, and disable its subscription when every attempt since the
    delivery's round began failed and nothing else got through meanwhile."""
    row = (await session.execute(_FAILED, params)).first()
    if row is None:
        return
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


async def record(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, outcomes: Sequence[Outcome]
) -> None:
    """Phase 3: write what each attempt got, schedule retries, give up and disable."""
    schedule = settings.partner_webhook_retry_schedule_s
    succeeded, retried, failed = _sorted_outcomes(schedule, outcomes)
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
            await _give_up(session, params)
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
    # Counted once the outcomes are committed, so a rolled-back pass counts nothing.
    for outcome_name, batch in (
        ("succeeded", succeeded),
        ("retried", retried),
        ("failed", failed),
    ):
        if batch:
            WEBHOOK_ATTEMPTS.labels(outcome_name).inc(len(batch))


async def deliver_webhooks(work: Work) -> int:
    """One pass: claim, send and record batches until the due queue is empty (or a limit)."""
    settings, sessions = work.settings, work.sessions
    handled = 0
    client = WebhookClient(settings)
    try:
        for _ in range(MAX_BATCHES_PER_PASS):
            claimed = await claim(sessions, settings)
            if not claimed:
                break
            outcomes = await send_all(
                client,
                claimed,
                settings.partner_webhook_concurrency,
                settings.partner_webhook_timeout_s,
            )
            await record(sessions, settings, outcomes)
            handled += len(claimed)
            if len(claimed) < settings.partner_webhook_batch_size:
                break
    finally:
        await client.aclose()
    return handled
