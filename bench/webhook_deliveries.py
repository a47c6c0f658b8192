"""Figure 8: partner webhook deliveries per second (issue 6, item 9).

A partner with a pseudonymised subscription to `registry.people` and a webhook on a local
receiver (its own process: uvicorn, a bare ASGI app that answers 204) is given N feed entries
of realistic `PersonRegistered` payloads through the real fan-out (`feed.append`, which queues
one delivery each). Then the real job pass (`partners.webhook_sender.deliver_webhooks`, run as
`labourx jobs notify` runs it) is repeated until every delivery has succeeded: claim with
`FOR UPDATE SKIP LOCKED`, redact per partner, sign (Standard Webhooks), POST with httpx, record
each outcome and attempt. The time runs from the first pass to the last delivery recorded.

The reference, in the same run against the same receiver, is the least a sender does: the same
body, signed per request with `standardwebhooks`, POSTed N times by an httpx client with the
same limits and concurrency, with no database at all. The ratio is what the queue costs: claim,
redaction, bookkeeping and its transactions. Rounds alternate (L R, L R, ...) and the median
round of each is reported.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import func, select

from bench import report
from bench.processes import Child
from services.notify.partners import (
    feed,
    partner_accounts,
    presenting,
    sharing_changes,
    subscriptions,
)
from services.notify.partners.models import Delivery, FeedEntry, Partner
from services.notify.partners.schemas import PartnerCreate, SubscriptionCreate
from services.notify.partners.scopes import Scope
from services.notify.partners.signatures import signature_header
from services.notify.partners.streams import EntryKind
from services.notify.partners.webhook_sender import deliver_webhooks
from shared import clock
from shared.db import create_engine, session_factory
from shared.events.registry import PersonRegistered
from shared.infra import free_port
from shared.jobs import run_once
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bench.environment import Environment
    from shared.settings import Settings

STREAM = "registry.people"
JOB = PeriodicJob("partner-webhooks", deliver_webhooks)


async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The partner's endpoint: reads the body, answers 204 (uvicorn factory-free ASGI app)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _payload(n: int) -> dict[str, Any]:
    event = PersonRegistered(
        person_id=uuid.uuid4(),
        reference=f"P-B{n:07d}",
        given_name_lo="ສົມສັກ",
        family_name_lo="ພົມມະຈັນ",
        given_name_en=f"Somsak{n}",
        family_name_en="Phommachanh",
        sex="male" if n % 2 else "female",
        date_of_birth=date(1990 + n % 20, 1 + n % 12, 1 + n % 28),
        phone=f"+85620{55_000_000 + n:08d}",
        email=f"person{n}@example.la",
        province_code="LA-VT",
        office_code="ESC-VT",
        skills=["welding", "driving"],
        registered_by="esc-vt-1",
        registered_at=datetime.now(UTC),
    )
    return event.model_dump(mode="json")


async def _wait_listening(url: str, child: Child) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as client:
        while True:
            child.check_alive()
            try:
                if (await client.post(url, content=b"{}")).status_code == 204:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the webhook receiver did not start")
            await asyncio.sleep(0.1)


async def _queue(sessions: Any, settings: Settings, count: int, offset: int) -> None:
    """N entries appended through the real fan-out: N deliveries queued."""
    async with sessions() as session, session.begin():
        for n in range(offset, offset + count):
            data = _payload(n)
            # Each person agreed to share with UN agencies, as the counter records it: without
            # that consent the partner would get the aggregate view only (issue 14).
            await sharing_changes.record_consent(
                session,
                settings,
                person_id=uuid.UUID(data["person_id"]),
                agency=None,
                category="un_agencies",
                status="given",
                expires_on=None,
                recorded_at=datetime.now(UTC),
                today=clock.today(),
            )
            await feed.append(
                session,
                settings,
                stream=STREAM,
                kind=EntryKind.EVENT,
                event_type=PersonRegistered.event_type(),
                time=datetime.now(UTC),
                data=data,
                event_id=uuid.uuid4(),
                subject=data["person_id"],
                person_id=uuid.UUID(data["person_id"]),
            )


async def _open(sessions: Any) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(Delivery.status.in_(("pending", "in_flight")))
            )
            or 0
        )


async def _labourx_round(sessions: Any, settings: Settings, count: int, offset: int) -> float:
    await _queue(sessions, settings, count, offset)
    started = time.perf_counter()
    while await _open(sessions):
        await run_once(JOB, settings, sessions)
    return count / (time.perf_counter() - started)


async def _reference_round(
    url: str, secret: str, body: bytes, count: int, settings: Settings
) -> float:
    gate = asyncio.Semaphore(settings.partner_webhook_concurrency)
    limits = httpx.Limits(max_connections=settings.partner_webhook_concurrency)
    timeout = httpx.Timeout(settings.partner_webhook_timeout_s)
    text = body.decode()
    failed = 0

    async def post(client: httpx.AsyncClient) -> None:
        nonlocal failed
        async with gate:
            msg_id = str(uuid.uuid4())
            now = datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature_header([secret], msg_id, now, text),
            }
            answer = await client.post(url, content=body, headers=headers)
            failed += not answer.is_success

    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post(client) for _ in range(count)))
        elapsed = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"{failed} reference POSTs failed")
    return count / elapsed


async def run(env: Environment, deliveries: int = 2000, rounds: int = 3) -> dict[str, Any]:
    port = free_port()
    child = Child(
        "webhook-receiver",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.webhook_deliveries:receiver",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        env.child_env(),
        env.log_dir / "webhook-receiver.log",
    )
    engine = create_engine(env.settings, "notify")
    sessions = session_factory(engine)
    settings = env.settings
    try:
        url = f"http://127.0.0.1:{port}/hooks/bench"
        await _wait_listening(url, child)
        async with sessions() as session, session.begin():
            partner, _ = await partner_accounts.create_partner(
                session,
                PartnerCreate(
                    code=f"BENCH-{uuid.uuid4().hex[:6].upper()}",
                    name="Benchmark partner",
                    category="un_agencies",
                ),
                "bench",
            )
            created = await subscriptions.create_subscription(
                session,
                settings,
                partner,
                SubscriptionCreate(stream=STREAM, scope=Scope.PSEUDONYMISED, webhook_url=url),
            )
            partner_id = partner.id
        secret = created.webhook_secret or ""
        # The reference sends the body labourx sends: a real entry as this partner sees it.
        await _queue(sessions, settings, 1, 0)
        async with sessions() as session:
            entry = await session.scalar(select(FeedEntry).order_by(FeedEntry.id.desc()))
            stored = await session.get(Partner, partner_id)
            assert entry is not None
            assert stored is not None
            ref = presenting.PartnerRef.of(stored, presenting.master_key(settings))
            body = presenting.body_bytes(
                presenting.present(entry, ref, Scope.PSEUDONYMISED, {}, clock.today()) or {}
            )
        # Warm-up: the first delivery above, and as many reference POSTs.
        await _labourx_round(sessions, settings, 0, 1)
        while await _open(sessions):
            await run_once(JOB, settings, sessions)
        await _reference_round(url, secret, body, min(200, deliveries), settings)

        labourx: list[float] = []
        reference: list[float] = []
        offset = 1
        for n in range(rounds):
            order = ("L", "R") if n % 2 == 0 else ("R", "L")
            for arm in order:
                if arm == "L":
                    labourx.append(await _labourx_round(sessions, settings, deliveries, offset))
                    offset += deliveries
                else:
                    reference.append(
                        await _reference_round(url, secret, body, deliveries, settings)
                    )
        async with sessions() as session:
            succeeded = int(
                await session.scalar(
                    select(func.count()).where(
                        Delivery.status == "succeeded", Delivery.attempts == 1
                    )
                )
                or 0
            )
    finally:
        await engine.dispose()
        child.stop()
    lx, rf = statistics.median(labourx), statistics.median(reference)
    return {
        "deliveries_per_round": deliveries,
        "rounds": rounds,
        "batch_size": settings.partner_webhook_batch_size,
        "concurrency": settings.partner_webhook_concurrency,
        "body_bytes": len(body),
        "succeeded_first_time": succeeded,
        "expected": deliveries * rounds + 1,
        "labourx": {"per_s": round(lx), "rounds": [round(r) for r in labourx]},
        "reference": {"per_s": round(rf), "rounds": [round(r) for r in reference]},
        "ratio": round(lx / rf, 3),
    }


def checks(figure: Mapping[str, Any]) -> list[report.Check]:
    """No numeric target in the issue: every delivery must get through, once."""
    return [
        report.Check(
            "webhook deliveries that succeeded at the first attempt",
            figure["succeeded_first_time"],
            f"= {figure['expected']:,}",
            figure["succeeded_first_time"] == figure["expected"],
        )
    ]


def render(figure: Mapping[str, Any]) -> str:
    rows = [
        ("figure", "labourx", "reference", "ratio"),
        (
            f"Partner webhooks: {figure['deliveries_per_round']:,} signed deliveries per round, "
            f"{figure['concurrency']} in flight, batches of {figure['batch_size']} "
            f"(reference: signed httpx POSTs, no database), median of {figure['rounds']}",
            f"{figure['labourx']['per_s']:,}/s",
            f"{figure['reference']['per_s']:,}/s",
            f"{figure['ratio']:.2f}",
        ),
        (
            "  rounds",
            ", ".join(f"{r:,}" for r in figure["labourx"]["rounds"]),
            ", ".join(f"{r:,}" for r in figure["reference"]["rounds"]),
            "",
        ),
    ]
    verdicts = [
        ("target", "measured", "wanted", "result"),
        *[
            (c.figure, report._n(c.measured), c.target, "PASS" if c.met else "MISS")
            for c in checks(figure)
        ],
    ]
    return report._format(rows) + "\n\n" + report._format(verdicts)
