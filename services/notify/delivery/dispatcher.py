"""The dispatcher: hands due messages to their channel's provider and records what happened.

One pass, in three transactions (the claim's code is in delivery/claim.py):

1. Claim: due `queued` messages are locked with `FOR UPDATE SKIP LOCKED` (so two dispatchers
   never take the same one), transactional ones first (messages/domain.py PRIORITIES), checked
   (address, STOP, consent, quiet hours, the per-number rate limit), marked `sending` with one
   more attempt, and committed. What may not go yet is deferred to when it may, still
   `queued`; what may never go is `cancelled`. The hourly limit per number holds courtesy
   messages back first: a courtesy SMS goes only while the number got fewer than the limit of
   any kind in the last hour, a transactional one while it got fewer than the limit of
   transactional ones; so thanks and greetings never make a certificate or a placement wait,
   and a number gets at most twice the limit in an hour.
2. Send: every claimed message is handed to its provider, a few at a time, outside any
   transaction (a slow gateway holds no locks).
3. Record: each outcome is written with its status history row and, for `sent` and `failed`,
   its event in the outbox, in one transaction. A temporary failure goes back to `queued` with
   an exponential, jittered wait, until `delivery_max_attempts`.

A dispatcher that dies between 2 and 3 leaves messages `sending`. After
`delivery_sending_timeout_s` a later pass decides: to an idempotent provider (the development
one, SMTP with its fixed Message-ID, an SMS gateway that deduplicates on `reference`) the message
is handed over again; otherwise it is `failed` with `unknown_outcome` and never resent: a
person may miss an SMS, but never gets two. The gateway's receipt, if one comes, corrects it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from prometheus_client import Counter
from sqlalchemy import insert, select

from services.notify.delivery.claim import claim_due
from services.notify.delivery.domain import (
    UNKNOWN_OUTCOME,
    DeliveryError,
    backoff_s,
)
from services.notify.delivery.events import message_event
from services.notify.delivery.providers import BatchProvider, Outgoing, Providers
from services.notify.messages.models import Message, MessageStatus

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings


DELIVERIES = Counter(
    "labourx_notify_deliveries_total",
    "Messages handed to a provider, by channel and outcome",
    ["channel", "outcome"],
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


_RNG = random.Random()


@dataclass
class PassResult:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: int = 0
    recovered: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled + self.recovered


@dataclass(frozen=True)
class _Outcome:
    message_id: uuid.UUID
    accepted: bool
    provider_id: str | None = None
    error: DeliveryError | None = None


async def dispatch_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    *,
    clock: Clock = utc_now,
    rng: random.Random | None = None,
) -> PassResult:
    """One pass of the dispatcher (see the module docstring); safe to run in many processes."""
    result = PassResult(recovered=await recover_interrupted(sessions, settings, providers, clock))
    claim = await claim_due(sessions, settings, clock())
    result.claimed, result.deferred = len(claim.outgoing), claim.deferred
    result.cancelled = claim.cancelled
    if not claim.outgoing:
        return result
    outcomes = await _send_all(claim.outgoing, providers, settings.delivery_concurrency)
    await _record(sessions, settings, providers, outcomes, clock(), rng or _RNG, result)
    return result


async def drain(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    *,
    budget_s: float = 10.0,
    clock: Clock = utc_now,
) -> PassResult:
    """Passes back to back while each finds a full batch, for at most about `budget_s`: a
    backlog (the morning after quiet hours, a campaign) goes at the providers' pace, not one
    batch per job interval."""
    total = PassResult()
    deadline = asyncio.get_running_loop().time() + budget_s
    while True:
        one = await dispatch_once(sessions, settings, providers, clock=clock)
        for name in ("claimed", "sent", "retried", "failed", "deferred", "cancelled", "recovered"):
            setattr(total, name, getattr(total, name) + getattr(one, name))
        touched = one.claimed + one.deferred + one.cancelled
        if touched < settings.delivery_batch_size or asyncio.get_running_loop().time() > deadline:
            return total


async def _send_all(
    outgoing: Sequence[Outgoing], providers: Providers, concurrency: int
) -> list[_Outcome]:
    gate = asyncio.Semaphore(concurrency)

    async def send(item: Outgoing) -> _Outcome:
        async with gate:
            try:
                provider_id = await providers.of(item.channel).send(item)
            except DeliveryError as exc:
                return _Outcome(item.message_id, accepted=False, error=exc)
            except Exception as exc:
                # A fault in a provider, not an answer from it: whether anything left is unknown.
                error = DeliveryError(
                    "provider_error", f"{type(exc).__name__}: {exc}", unknown_outcome=True
                )
                return _Outcome(item.message_id, accepted=False, error=error)
            return _Outcome(item.message_id, accepted=True, provider_id=provider_id)

    async def send_batch(provider: BatchProvider, items: Sequence[Outgoing]) -> list[_Outcome]:
        try:
            ids = await provider.send_batch(items)
        except DeliveryError as exc:
            return [_Outcome(i.message_id, accepted=False, error=exc) for i in items]
        except Exception as exc:
            error = DeliveryError(
                "provider_error", f"{type(exc).__name__}: {exc}", unknown_outcome=True
            )
            return [_Outcome(i.message_id, accepted=False, error=error) for i in items]
        return [
            _Outcome(i.message_id, accepted=True, provider_id=p)
            for i, p in zip(items, ids, strict=True)
        ]

    singles: list[Outgoing] = []
    batches: dict[str, tuple[BatchProvider, list[Outgoing]]] = {}
    for item in outgoing:
        provider = providers.of(item.channel)
        if isinstance(provider, BatchProvider):
            batches.setdefault(item.channel, (provider, []))[1].append(item)
        else:
            singles.append(item)
    one_by_one = asyncio.gather(*(send(item) for item in singles))
    in_batches = asyncio.gather(*(send_batch(p, items) for p, items in batches.values()))
    done, batched = await asyncio.gather(one_by_one, in_batches)
    return [*done, *(outcome for outcomes in batched for outcome in outcomes)]


async def _still_sending(
    session: AsyncSession, outcomes: Sequence[_Outcome]
) -> dict[uuid.UUID, Message]:
    """The outcomes' messages that are still `sending`, locked, by id."""
    return {
        m.id: m
        for m in (
            await session.scalars(
                select(Message)
                .where(
                    Message.id.in_([o.message_id for o in outcomes]),
                    # Unless a sweep already decided for a pass that looked dead.
                    Message.status == "sending",
                )
                .with_for_update()
            )
        ).all()
    }


def _requeue(
    message: Message,
    error: DeliveryError,
    settings: Settings,
    now: datetime,
    rng: random.Random,
) -> dict[str, object]:
    """Send a temporarily failed message back to `queued` after a backoff; its history row."""
    wait = backoff_s(
        message.attempts,
        settings.delivery_backoff_base_s,
        settings.delivery_backoff_cap_s,
        rng.random(),
    )
    message.status, message.last_error = "queued", str(error)
    message.next_attempt_at = now + timedelta(seconds=wait)
    return {
        "message_id": message.id,
        "status": "queued",
        "detail": f"{error}; attempt {message.attempts + 1} in {wait:.0f} s",
    }


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    outcomes: Sequence[_Outcome],
    now: datetime,
    rng: random.Random,
    result: PassResult,
) -> None:
    async with sessions() as session, session.begin():
        messages = await _still_sending(session, outcomes)
        history: list[dict[str, object]] = []
        # Events are staged after the loop: staging one flushes the session, and a flush per
        # message would be an UPDATE round trip per message instead of one for all.
        events: list[tuple[Message, Literal["sent", "failed"], str | None]] = []
        for outcome in outcomes:
            message = messages.get(outcome.message_id)
            if message is None:
                continue
            message.updated_at = now
            error = outcome.error
            if outcome.accepted:
                message.status, message.sent_at = "sent", now
                message.provider_message_id, message.last_error = outcome.provider_id, None
                history.append({"message_id": message.id, "status": "sent", "detail": None})
                events.append((message, "sent", None))
                result.sent += 1
                DELIVERIES.labels(message.channel, "sent").inc()
                continue
            assert error is not None
            idempotent = providers.of(message.channel).idempotent
            if error.unknown_outcome and not idempotent:
                code, detail = UNKNOWN_OUTCOME, f"{UNKNOWN_OUTCOME}: {error}; not sent again"
            elif error.permanent:
                code, detail = error.code, str(error)
            elif message.attempts >= settings.delivery_max_attempts:
                code = error.code
                detail = f"{error}; gave up after {message.attempts} attempts"
            else:
                history.append(_requeue(message, error, settings, now, rng))
                result.retried += 1
                DELIVERIES.labels(message.channel, "retried").inc()
                continue
            message.status, message.last_error = "failed", detail
            history.append({"message_id": message.id, "status": "failed", "detail": detail})
            events.append((message, "failed", code))
            result.failed += 1
            DELIVERIES.labels(message.channel, "failed").inc()
        await session.flush()
        if history:
            await session.execute(insert(MessageStatus), [h | {"at": now} for h in history])
        for message, verb, error_code in events:
            await message_event(session, message, verb, now, error_code=error_code)


async def recover_interrupted(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    clock: Clock = utc_now,
) -> int:
    """Settle messages a dead dispatcher left `sending`: handed over again to an idempotent
    provider, failed as `unknown_outcome` otherwise (never a second SMS)."""
    now = clock()
    cutoff = now - timedelta(seconds=settings.delivery_sending_timeout_s)
    async with sessions() as session, session.begin():
        stale = (
            await session.scalars(
                select(Message)
                .where(Message.status == "sending", Message.updated_at < cutoff)
                .order_by(Message.updated_at)
                .limit(settings.delivery_batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        history: list[dict[str, object]] = []
        for message in stale:
            message.updated_at = now
            if providers.of(message.channel).idempotent:
                message.status, message.next_attempt_at = "queued", now
                detail = (
                    "the hand-over was interrupted; handed over again with the same reference "
                    "(the provider deduplicates)"
                )
                history.append({"message_id": message.id, "status": "queued", "detail": detail})
                continue
            detail = (
                f"{UNKNOWN_OUTCOME}: the hand-over was interrupted and the provider does not "
                "deduplicate; not sent again"
            )
            message.status, message.last_error = "failed", detail
            history.append({"message_id": message.id, "status": "failed", "detail": detail})
            await message_event(session, message, "failed", now, error_code=UNKNOWN_OUTCOME)
            DELIVERIES.labels(message.channel, "failed").inc()
        await session.flush()
        if history:
            await session.execute(insert(MessageStatus), [h | {"at": now} for h in history])
    return len(stale)
