"""Scheduled work of partner feeds: webhook deliveries, the partners' Kafka topics, the history
subscriptions asked for, and the removals owed for partner-sharing consents that lapsed.

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
asks). The job API gives a pass one transaction (`run(session, ...)`); this pass leaves it unused
and opens its own on the same engine (`session.bind`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

import httpx
from prometheus_client import Counter
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
from services.notify.partners.service import private_addresses_allowed, signing_secrets
from shared import clock
from shared.kafka import ensure_topics
from shared.service import PeriodicJob
from shared.settings import Settings

log = logging.getLogger(__name__)

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
    # Why it could not even be prepared (then nothing is sent: the attempt fails with this).
    failure: str | None = None


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
    # Long enough for the whole batch: each attempt ends within the timeout, `concurrency` at
    # a time, so a row is not claimed again while this pass may still send it.
    rounds = -(-settings.partner_webhook_batch_size // settings.partner_webhook_concurrency)
    lease = settings.partner_webhook_timeout_s * rounds + 30
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
        people = [e.person_id for _, e, s, _ in rows if s.scope != Scope.AGGREGATE and e.person_id]
        decisions = await feed.decisions_of(session, people)
        master = feed.master_key(settings)
        today = clock.today()
        now = datetime.now(UTC)
        claimed: list[Claimed] = []
        for delivery, entry, subscription, partner in rows:
            if not subscription.webhook_url:
                continue  # nothing for it (cannot happen for rows the fan-out made)
            try:
                ref = feed.PartnerRef.of(partner, master)
                document = feed.present(entry, ref, Scope(subscription.scope), decisions, today)
                if document is None:
                    continue
                body = feed.body_bytes(document)
                msg_id = str(delivery.id)
                headers = {
                    "content-type": "application/json",
                    "accept-encoding": "identity",
                    "user-agent": USER_AGENT,
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": domain.signature_header(
                        signing_secrets(settings, subscription, now), msg_id, now, body.decode()
                    ),
                }
            except Exception as exc:
                # One delivery that cannot be built (a bug, or data no rule foresaw) is a failed
                # attempt of that delivery, never a pass that fails for every partner.
                log.exception("a partner webhook could not be prepared")
                failure = domain.attempt_error(f"not prepared: {type(exc).__name__}: {exc}")
                claimed.append(
                    Claimed(
                        delivery.id,
                        subscription.webhook_url,
                        b"",
                        {},
                        delivery.round_attempts,
                        failure,
                    )
                )
                continue
            claimed.append(
                Claimed(
                    delivery.id, subscription.webhook_url, body, headers, delivery.round_attempts
                )
            )
        return claimed


class Unsendable(Exception):
    """A webhook that is not sent: its host is, or resolves to, an address webhooks may not go
    to (`blocked_address`), or does not resolve (`dns_error`)."""


@dataclass(frozen=True)
class Answer:
    """What a partner's server answered: its status and the start of its body."""

    status_code: int
    text: str


class WebhookClient:
    """POSTs webhooks for one pass. With private addresses allowed, one httpx client does it all;
    otherwise each host is resolved once per pass, every address it has checked, and a client of
    its own posts to the vetted address, with the name kept in `Host` and in TLS (SNI and the
    certificate check). One client per host, because a pool keyed by address would reuse a TLS
    connection made for one partner's host for another's on the same address (a shared CDN).

    Only the first `ANSWER_BYTES` of an answer are read (for the attempt's error), undecoded:
    a partner's server cannot make a pass read an endless or a compressed-to-explode body."""

    def __init__(self, settings: Settings) -> None:
        self._vet = not private_addresses_allowed(settings)
        self._timeout_s = settings.partner_webhook_timeout_s
        self._timeout = httpx.Timeout(self._timeout_s)
        self._limits = httpx.Limits(max_connections=settings.partner_webhook_concurrency)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._routes: dict[tuple[str, int], asyncio.Task[domain.IPAddress]] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        if host not in self._clients:
            # Redirects are not followed: a partner's URL is where the signed body goes.
            self._clients[host] = httpx.AsyncClient(
                timeout=self._timeout, limits=self._limits, follow_redirects=False
            )
        return self._clients[host]

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        # Parsed as when subscribing: a URL stored before that check (or changed by hand)
        # raises here, for this delivery only.
        target = domain.webhook_target(url)
        if not self._vet:
            return await _send(self._client(""), target.url, body, headers, {})
        key = (target.host, target.port)
        if key not in self._routes:
            self._routes[key] = asyncio.ensure_future(
                vetted_address(target.host, target.port, self._timeout_s)
            )
        # Shielded: one sender given up on must not cancel the lookup others wait for.
        address = await asyncio.shield(self._routes[key])
        return await _send(
            self._client(target.host),
            target.url.copy_with(host=str(address)),
            body,
            {**headers, "host": target.url.netloc.decode("ascii")},
            {"sni_hostname": target.host} if target.scheme == "https" else {},
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        for route in self._routes.values():
            if not route.done():
                route.cancel()


# How much of an answer is read: enough for the error a partner's server sends.
ANSWER_BYTES = 2048


async def _send(
    client: httpx.AsyncClient,
    url: httpx.URL,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> Answer:
    request = client.build_request(
        "POST", url, content=body, headers=headers, extensions=extensions
    )
    response = await client.send(request, stream=True)
    try:
        start = b""
        async for chunk in response.aiter_raw():
            start += chunk
            if len(start) >= ANSWER_BYTES:
                break  # the rest is never read; closing drops the connection
        return Answer(response.status_code, start[:ANSWER_BYTES].decode("utf-8", "replace"))
    finally:
        await response.aclose()


async def vetted_address(host: str, port: int, timeout_s: float) -> domain.IPAddress:
    """An address of `host` to send a webhook to, once every address it resolves to (asyncio's
    getaddrinfo) is one webhooks may go to; `Unsendable` if any is not, or none is found.
    Addresses written as the host (in any form) resolve to themselves and are checked alike."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise Unsendable(f"dns_error: {host} did not resolve within {timeout_s} s") from exc
    except OSError as exc:
        raise Unsendable(f"dns_error: {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0])) for info in found]
    if not addresses:
        raise Unsendable(f"dns_error: {host} has no address")
    for address in addresses:
        if domain.blocked_address(address):
            raise Unsendable(
                f"blocked_address: {host} resolves to {address}, a private, loopback,"
                " link-local or reserved address"
            )
    return addresses[0]


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
                        if domain.succeeded(answer.status_code)
                        else domain.attempt_error(answer.text)
                    )
                except Unsendable as exc:
                    error = domain.attempt_error(str(exc))
                except TimeoutError:
                    error = f"TimeoutError: no answer within {deadline_s:g} s"
                except Exception as exc:
                    # Whatever one delivery raises (an unparseable URL stored long ago, a
                    # protocol error, a bug) is a failed attempt of that delivery alone: the
                    # pass records every other outcome, and it is retried on its schedule.
                    error = domain.attempt_error(f"{type(exc).__name__}: {exc}")
            duration = int((time.perf_counter() - started) * 1000)
            return Outcome(item, at, code, error, duration)

    return list(await asyncio.gather(*(send(item) for item in claimed)))


WEBHOOK_ATTEMPTS = Counter(
    "labourx_partner_webhook_attempts_total",
    "Partner webhook attempts recorded, by outcome (succeeded, retried, failed: given up)",
    ["outcome"],
)


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
    # Counted once the outcomes are committed, so a rolled-back pass counts nothing.
    for outcome_name, batch in (
        ("succeeded", succeeded),
        ("retried", retried),
        ("failed", failed),
    ):
        if batch:
            WEBHOOK_ATTEMPTS.labels(outcome_name).inc(len(batch))


async def deliver_webhooks(session: AsyncSession, settings: Settings, today: date) -> int:
    """One pass: claim, send and record batches until the due queue is empty (or a limit)."""
    sessions = _sessions(session)
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


# Consents one sweep pass handles (a larger backlog, e.g. after an outage, takes more passes).
LAPSE_SWEEP_BATCH = 500


async def sweep_lapsed_consents(session: AsyncSession, settings: Settings, today: date) -> int:
    """Send the removals a withdrawal would for partner-sharing consents past their expiry date.

    Consents lapse once a day (at midnight, Lao time); the pass runs every `jobs_interval_s`
    so that removals follow within minutes, and finds nothing to do in between.
    """
    return await feed.sweep_lapsed_consents(session, settings, today, LAPSE_SWEEP_BATCH)


# Past entries one catch-up pass writes per subscription (it holds the feed's lock meanwhile).
HISTORY_BATCH = 500


async def send_history(session: AsyncSession, settings: Settings, today: date) -> int:
    """Write the history subscriptions asked for to their webhooks and Kafka topics, a batch
    per pass, until each has caught up with the feed (see `feed.catch_up`)."""
    return await feed.catch_up(session, settings, today, HISTORY_BATCH)


JOBS: list[PeriodicJob] = [
    # Each starts a pass as soon as its table notifies (migration 0007): a delivery queued, a
    # subscription made or changed. The intervals catch retries falling due and a missed note.
    PeriodicJob(
        "partner-webhooks", deliver_webhooks, interval_s=5.0, wake_on="labourx_notify_webhooks"
    ),
    PeriodicJob(
        "partner-history", send_history, interval_s=10.0, wake_on="labourx_notify_partners"
    ),
    PeriodicJob(
        "partner-topics", ensure_partner_topics, interval_s=10.0, wake_on="labourx_notify_partners"
    ),
    PeriodicJob("partner-consent-lapses", sweep_lapsed_consents),
]
