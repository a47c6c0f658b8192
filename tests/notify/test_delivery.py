"""Delivery: the dispatcher hands each message over once, retries what may succeed later, holds SMS
back in quiet hours and beyond the hourly limit, and tells the rest of the system how it went.

The SMS gateway is a real HTTP server on a free port (a small Starlette app served by uvicorn in
this process) implementing the contract in services/notify/delivery/providers.py; email goes to
a real SMTP server (aiosmtpd). Time is a fixed clock in the past, so the lead's messages (due
now) are never taken by these passes and these never by theirs.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import json
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from labourx.catalog import SERVICES
from services.notify.contacts.models import Contact
from services.notify.delivery.dispatcher import PassResult, dispatch_once, drain
from services.notify.delivery.jobs import JOBS as DELIVERY_JOBS
from services.notify.delivery.providers import Providers, providers_for
from services.notify.messages.models import Message, MessageStatus
from services.notify.templates.models import Template
from shared.db import create_engine, drop_database, session_factory
from shared.events.topics import NOTIFY_DELIVERIES
from shared.outbox.relay import OutboxRelay
from shared.provision import prepare_databases
from tests.support import fetch, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from aiosmtpd.smtp import SMTP, Envelope, Session
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from starlette.requests import Request

    from shared.settings import Settings

TEST_EVENT_TYPE = "lao.labourx.test.delivery.v1"
GATEWAY_TOKEN = "gateway-token-for-tests"
# 12:00 in Vientiane on a day long past: every test moves its own clock from a day of its own.
DAY_ZERO = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
_days = itertools.count(1)
_numbers = itertools.count()


def a_day() -> datetime:
    """Noon in Vientiane on a day no other test of this run uses."""
    return DAY_ZERO + timedelta(days=next(_days))


def a_number() -> str:
    """A Lao mobile number no other test of this run uses."""
    return f"+85620{77_000_000 + next(_numbers):08d}"


# ---------------------------------------------------------------------------------------------
# A real HTTP SMS gateway and a real SMTP server.


@dataclass
class FakeGateway:
    """An SMS gateway of the contract: bearer token, JSON in, `{"id"}` out, deduplicating on
    `reference`. `script` holds the status codes of the next answers (then 200); `delay_s` holds
    each answer back after the message was accepted (a lost answer, when the caller gives up)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # reference -> gateway id

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        status = self.script.pop(0) if self.script else 200
        if status != 200:
            return JSONResponse({"error": f"status {status}"}, status_code=status)
        reference = body["reference"]
        if reference not in self.accepted:  # a repeated reference is not sent again
            self.accepted[reference] = f"gw-{uuid.uuid4().hex[:12]}"
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return JSONResponse({"id": self.accepted[reference]})

    def to(self, number: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["body"]["to"] == number]

    def reset(self) -> None:
        self.script.clear()
        self.delay_s = 0.0


async def _true(value: object) -> bool:
    return bool(value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session", name="gateway")
async def gateway_fixture() -> AsyncIterator[FakeGateway]:
    fake = FakeGateway()
    app = Starlette(routes=[Route("/sms", fake.endpoint, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: _true(server.started), timeout_s=10, interval_s=0.01)
    fake.url = f"http://127.0.0.1:{port}/sms"
    yield fake
    server.should_exit = True
    await task


@pytest.fixture(name="fresh_gateway")
def fresh_gateway_fixture(gateway: FakeGateway) -> Iterator[FakeGateway]:
    gateway.reset()
    yield gateway
    gateway.reset()


class Mailbox:
    """aiosmtpd handler that keeps every mail it is given."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.raw.append(raw)
        self.envelopes.append(envelope)
        return "250 OK"


def raw_header(mail: EmailMessage, name: str) -> str:
    """A header as it was on the wire (encoded words and all)."""
    raw = email.message_from_bytes(mail.as_bytes(), policy=email.policy.compat32)
    return str(raw[name])


@pytest.fixture(scope="session", name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    # SMTPUTF8: addresses and headers may be UTF-8 as they are; the body is UTF-8 either way.
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield mailbox, port
    controller.stop()


# ---------------------------------------------------------------------------------------------
# Settings, sessions and providers as the job process has them.


def delivery_settings(settings: Settings, gateway: FakeGateway, **overrides: Any) -> Settings:
    """The test session's settings with the HTTP gateway and fast retries."""
    return settings.model_copy(
        update={
            "sms_provider": "http",
            "sms_gateway_url": gateway.url,
            "sms_gateway_token": SecretStr(GATEWAY_TOKEN),
            "sms_sender_id": "LABOURX",
            "delivery_backoff_base_s": 10.0,
            "delivery_backoff_cap_s": 600.0,
            "delivery_max_attempts": 5,
            "sms_per_recipient_per_hour": 5,
            **overrides,
        }
    )


@pytest.fixture(scope="module", name="migrated")
async def own_notify_database(migrated: Settings) -> AsyncIterator[Settings]:
    """A notify database of this module's own: a dispatcher takes every message that is due,
    and messages other tests' people were sent through the session's notify consumer (the
    console's, a welcome) would otherwise be taken and counted here."""
    own = migrated.model_copy(update={"database_prefix": f"{migrated.database_prefix}dlv_"})
    await prepare_databases(own, [SERVICES["notify"]])
    yield own
    await drop_database(own, "notify")


@pytest.fixture(scope="module", name="notify_engine")
async def notify_engine_fixture(migrated: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated, "notify")
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module", name="sessions")
def sessions_fixture(notify_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(notify_engine)


@pytest.fixture(autouse=True, name="leave_nothing_queued")
async def leave_nothing_queued_fixture(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[None]:
    """Messages a test left waiting are cancelled, so no later pass of another test takes them."""
    yield
    async with sessions() as session, session.begin():
        await session.execute(
            update(Message)
            .where(Message.event_type == TEST_EVENT_TYPE, Message.status == "queued")
            .values(status="cancelled", last_error="test over")
        )


@dataclass
class Dispatcher:
    """A dispatcher as one job process runs it, with a clock the test moves."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    providers: Providers
    now: datetime

    async def run(self, at: datetime | None = None) -> PassResult:
        if at is not None:
            self.now = at
        return await dispatch_once(
            self.sessions, self.settings, self.providers, clock=lambda: self.now
        )


@pytest.fixture(name="dispatchers")
async def dispatchers_fixture() -> AsyncIterator[list[Dispatcher]]:
    """Every dispatcher a test makes with `dispatcher()`, closed after it."""
    made: list[Dispatcher] = []
    yield made
    for d in made:
        await d.providers.aclose()


def dispatcher(
    made: list[Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
) -> Dispatcher:
    d = Dispatcher(sessions, settings, providers_for(settings, sessions), now)
    made.append(d)
    return d


# ---------------------------------------------------------------------------------------------
# Messages as the lead's handlers queue them.


async def template_id(session: AsyncSession, channel: str) -> int:
    found = await session.scalar(
        select(Template.id).where(Template.key == "welcome", Template.channel == channel).limit(1)
    )
    assert found is not None
    return found


async def queue_message(
    sessions: async_sessionmaker[AsyncSession],
    *,
    due: datetime,
    recipient: str,
    channel: str = "sms",
    person_id: uuid.UUID | None = None,
    body: str = "ສະບາຍດີ ສົມສັກ! ທ່ານໄດ້ລົງທະບຽນແລ້ວ. ເລກອ້າງອີງ: P-N0000001",
    subject: str | None = None,
    province_code: str = "LA-VT",
    template_key: str = "welcome",
) -> uuid.UUID:
    """A queued message with its "queued" history row, due at `due` (its priority is its
    key's: a welcome is a courtesy message)."""
    message_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Message(
                id=message_id,
                event_id=uuid.uuid4(),
                event_type=TEST_EVENT_TYPE,
                template_key=template_key,
                person_id=person_id or uuid.uuid4(),
                province_code=province_code,
                channel=channel,
                recipient=recipient,
                language="lo",
                template_id=await template_id(session, channel),
                subject=subject,
                body=body,
                segments=1,
                status="queued",
                attempts=0,
                next_attempt_at=due,
                correlation_id=f"corr-{message_id.hex[:8]}",
            )
        )
        await session.flush()
        session.add(MessageStatus(message_id=message_id, status="queued", detail=template_key))
    return message_id


async def add_contact(
    sessions: async_sessionmaker[AsyncSession], phone: str, **fields: Any
) -> uuid.UUID:
    """A contact who consented to SMS and email (unless `fields` say otherwise)."""
    fields = {"sms_consent": "given", "email_consent": "given"} | fields
    person_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Contact(
                person_id=person_id,
                reference=f"P-T{person_id.hex[:7].upper()}",
                given_name_lo="ສົມສັກ",
                phone=phone,
                preferred_language="lo",
                province_code="LA-VT",
                **fields,
            )
        )
    return person_id


async def message(sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID) -> Message:
    async with sessions() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def statuses(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(MessageStatus)
            .where(MessageStatus.message_id == message_id)
            .order_by(MessageStatus.id)
        )
        return [(s.status, s.detail) for s in rows]


async def staged_events(settings: Settings, message_id: uuid.UUID) -> list[dict[str, Any]]:
    """The CloudEvents notify's outbox holds for a message, oldest first."""
    rows = await fetch(
        settings, "notify", "SELECT value FROM outbox WHERE key = $1 ORDER BY id", str(message_id)
    )
    return [json.loads(r["value"]) for r in rows]


# ---------------------------------------------------------------------------------------------
# Retries and failures.


async def test_a_gateway_error_is_retried_with_backoff_until_the_sms_is_sent(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.script[:] = [503, 503]

    assert (await d.run()).retried == 1
    first_retry = (await message(sessions, sms)).next_attempt_at
    # Equal jitter: at least half of the 10 s step, at most all of it.
    assert t0 + timedelta(seconds=5) <= first_retry <= t0 + timedelta(seconds=10)
    assert (await d.run(first_retry - timedelta(seconds=1))).claimed == 0  # not due yet

    assert (await d.run(first_retry)).retried == 1
    second_retry = (await message(sessions, sms)).next_attempt_at
    assert (
        first_retry + timedelta(seconds=10) <= second_retry <= first_retry + timedelta(seconds=20)
    )

    assert (await d.run(second_retry)).sent == 1
    sent = await message(sessions, sms)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 3, second_retry)
    assert sent.provider_message_id == gateway.accepted[str(sms)]
    assert [s for s, _ in await statuses(sessions, sms)] == [
        "queued",
        "sending",
        "queued",
        "sending",
        "queued",
        "sending",
        "sent",
    ]
    history = await statuses(sessions, sms)
    assert "http_503" in (history[2][1] or "")
    assert "attempt 2" in (history[2][1] or "")

    requests = gateway.to(number)
    assert len(requests) == 3
    assert {r["reference"] for r in requests} == {str(sms)}  # the same idempotency key each time
    assert requests[0]["from"] == "LABOURX"
    assert requests[0]["text"].startswith("ສະບາຍດີ")
    assert {r["authorization"] for r in gateway.requests} == {f"Bearer {GATEWAY_TOKEN}"}

    [event] = await staged_events(migrated, sms)
    assert event["type"] == "lao.labourx.notify.message.sent.v1"
    assert event["data"]["attempts"] == 3


async def test_an_invalid_number_fails_at_once_and_is_never_tried_again(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.script[:] = [400]

    assert (await d.run()).failed == 1
    await d.run(t0 + timedelta(days=1))

    failed = await message(sessions, sms)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert (failed.last_error or "").startswith("http_400")
    assert len(gateway.to(number)) == 1
    assert [s for s, _ in await statuses(sessions, sms)] == ["queued", "sending", "failed"]
    [event] = await staged_events(migrated, sms)
    assert event["type"] == "lao.labourx.notify.message.failed.v1"
    assert event["data"]["error_code"] == "http_400"


async def test_a_gateway_that_keeps_failing_fails_the_message_after_the_last_attempt(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    settings = delivery_settings(migrated, gateway, delivery_max_attempts=3)
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.script[:] = [500, 429, 502, 200]

    for _ in range(3):
        await d.run((await message(sessions, sms)).next_attempt_at)

    failed = await message(sessions, sms)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in (failed.last_error or "")
    assert len(gateway.to(number)) == 3
    [event] = await staged_events(migrated, sms)
    assert event["data"]["error_code"] == "http_502"


async def test_a_gateway_that_cannot_be_reached_is_tried_again(
    migrated: Settings, sessions: async_sessionmaker[AsyncSession], dispatchers: list[Dispatcher]
) -> None:
    t0 = a_day()
    closed = FakeGateway(url=f"http://127.0.0.1:{free_port()}/sms")  # nothing listens there
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, closed), t0)
    sms = await queue_message(sessions, due=t0, recipient=a_number())

    assert (await d.run()).retried == 1
    waiting = await message(sessions, sms)
    assert waiting.status == "queued"
    assert (waiting.last_error or "").startswith("connection")


async def test_an_answer_lost_to_a_timeout_is_not_sent_again_by_a_gateway_that_cannot_deduplicate(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    settings = delivery_settings(
        migrated, gateway, sms_gateway_idempotent=False, sms_gateway_timeout_s=0.3
    )
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.delay_s = 2.0  # accepted, but the answer comes too late

    assert (await d.run()).failed == 1
    await d.run(t0 + timedelta(days=1))

    failed = await message(sessions, sms)
    assert failed.status == "failed"
    assert (failed.last_error or "").startswith("unknown_outcome")
    assert len(gateway.to(number)) == 1
    [event] = await staged_events(migrated, sms)
    assert event["data"]["error_code"] == "unknown_outcome"


# ---------------------------------------------------------------------------------------------
# Exactly one hand-over per message.


async def test_two_dispatchers_running_at_once_hand_each_message_over_once(
    migrated: Settings,
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0 = fresh_gateway, a_day()
    gateway.delay_s = 0.02  # slow enough that the two passes overlap
    settings = delivery_settings(migrated, gateway, delivery_batch_size=25)
    # Two job processes: each its own engine (connections) and providers.
    engines = [create_engine(settings, "notify") for _ in range(2)]
    try:
        one, two = (
            dispatcher(dispatchers, session_factory(e), settings, t0 + timedelta(minutes=1))
            for e in engines
        )
        sms = [await queue_message(one.sessions, due=t0, recipient=a_number()) for _ in range(60)]
        for _ in range(3):
            await asyncio.gather(one.run(), two.run())
    finally:
        for engine in engines:
            await engine.dispose()

    wanted = {str(m) for m in sms}
    references = [r["body"]["reference"] for r in gateway.requests]
    assert sorted(r for r in references if r in wanted) == sorted(wanted)  # each exactly once
    for m in sms:
        found = await message(one.sessions, m)
        assert (found.status, found.attempts) == ("sent", 1)
        assert [s for s, _ in await statuses(one.sessions, m)] == ["queued", "sending", "sent"]


async def test_a_message_a_dead_dispatcher_left_sending_goes_again_to_a_deduplicating_gateway(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    settings = delivery_settings(migrated, gateway, delivery_sending_timeout_s=300)
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.delay_s = 30  # the gateway accepts it; the dispatcher dies before the answer

    dying = asyncio.create_task(d.run())
    await wait_until(lambda: _true(gateway.to(number)), interval_s=0.01)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    assert (await message(sessions, sms)).status == "sending"
    gateway.delay_s = 0

    assert (await d.run(t0 + timedelta(seconds=299))).recovered == 0  # it might still be alive
    result = await d.run(t0 + timedelta(seconds=301))
    assert (result.recovered, result.sent) == (1, 1)

    sent = await message(sessions, sms)
    assert sent.status == "sent"
    assert sent.provider_message_id == gateway.accepted[str(sms)]
    assert len(gateway.to(number)) == 2
    assert len(gateway.accepted) >= 1
    assert {r["reference"] for r in gateway.to(number)} == {str(sms)}  # one SMS on the handset


async def test_a_message_left_sending_is_failed_not_resent_when_the_gateway_cannot_deduplicate(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    settings = delivery_settings(migrated, gateway, sms_gateway_idempotent=False)
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=number)
    gateway.delay_s = 30

    dying = asyncio.create_task(d.run())
    await wait_until(lambda: _true(gateway.to(number)), interval_s=0.01)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    gateway.delay_s = 0

    assert (await d.run(t0 + timedelta(minutes=6))).recovered == 1
    failed = await message(sessions, sms)
    assert failed.status == "failed"
    assert (failed.last_error or "").startswith("unknown_outcome")
    assert len(gateway.to(number)) == 1
    [event] = await staged_events(migrated, sms)
    assert event["data"]["error_code"] == "unknown_outcome"


# ---------------------------------------------------------------------------------------------
# Quiet hours and the hourly limit.


async def test_an_sms_due_in_quiet_hours_waits_until_seven_in_vientiane_and_email_does_not(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, number = fresh_gateway, a_number()
    evening = a_day() + timedelta(hours=10, minutes=30)  # 22:30 in Vientiane
    morning = (evening + timedelta(hours=8, minutes=30)).replace(minute=0)  # 07:00 next day
    assert morning.hour == 0  # 07:00 ICT is 00:00 UTC
    assert morning.tzinfo == UTC
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), evening)
    sms = await queue_message(sessions, due=evening - timedelta(minutes=5), recipient=number)
    mail = await queue_message(
        sessions,
        due=evening - timedelta(minutes=5),
        recipient="somsak.quiet@example.la",
        channel="email",
        subject="ທ່ານໄດ້ລົງທະບຽນແລ້ວ",
    )

    result = await d.run()
    assert (result.deferred, result.sent) == (1, 1)  # the email went (development provider)
    assert (await message(sessions, mail)).status == "sent"
    held = await message(sessions, sms)
    assert held.status == "queued"
    assert held.next_attempt_at == morning
    assert "deferred until" in ((await statuses(sessions, sms))[-1][1] or "")

    assert (await d.run(morning - timedelta(minutes=1))).claimed == 0
    assert gateway.to(number) == []
    assert (await d.run(morning)).sent == 1
    assert len(gateway.to(number)) == 1


async def test_sms_beyond_the_hourly_limit_for_a_number_wait_for_a_free_slot_and_are_not_dropped(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, busy, other = fresh_gateway, a_day(), a_number(), a_number()
    settings = delivery_settings(migrated, gateway, sms_per_recipient_per_hour=3)
    d = dispatcher(dispatchers, sessions, settings, t0)
    many = [
        await queue_message(sessions, due=t0 - timedelta(seconds=10 - n), recipient=busy)
        for n in range(5)
    ]
    await queue_message(sessions, due=t0, recipient=other)

    result = await d.run()
    assert (result.sent, result.deferred) == (4, 2)  # three to the busy number, one to the other
    assert len(gateway.to(busy)) == 3
    assert len(gateway.to(other)) == 1
    for m in many[3:]:
        waiting = await message(sessions, m)
        assert waiting.status == "queued"
        assert waiting.next_attempt_at == t0 + timedelta(hours=1)

    assert (await d.run(t0 + timedelta(minutes=59))).sent == 0
    assert (await d.run(t0 + timedelta(hours=1))).sent == 2
    assert len(gateway.to(busy)) == 5
    assert [(await message(sessions, m)).status for m in many] == ["sent"] * 5


async def test_a_certificate_goes_at_once_to_a_number_that_had_five_courtesy_sms_this_hour(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    """Issue 14: "thank you for interviewing" used the hour's quota and a certificate waited an
    hour. Courtesy messages are the ones held back; what the person waits for goes."""
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), t0)
    thanks = [
        await queue_message(sessions, due=t0, recipient=number, template_key="interview")
        for _ in range(5)
    ]
    assert (await d.run()).sent == 5

    later = t0 + timedelta(minutes=10)
    certificate = await queue_message(
        sessions, due=later, recipient=number, template_key="certificate_issued"
    )
    one_more_thanks = await queue_message(
        sessions, due=later, recipient=number, template_key="interview"
    )
    result = await d.run(later)
    assert (result.sent, result.deferred) == (1, 1)
    assert (await message(sessions, certificate)).status == "sent"
    waiting = await message(sessions, one_more_thanks)
    assert waiting.status == "queued"
    assert waiting.next_attempt_at == t0 + timedelta(hours=1)
    assert "courtesy messages held back first" in (
        (await statuses(sessions, one_more_thanks))[-1][1] or ""
    )
    assert [r["reference"] for r in gateway.to(number)] == [*map(str, thanks), str(certificate)]


async def test_transactional_sms_have_an_hourly_limit_of_their_own(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0, number = fresh_gateway, a_day(), a_number()
    settings = delivery_settings(migrated, gateway, sms_per_recipient_per_hour=2)
    d = dispatcher(dispatchers, sessions, settings, t0)
    urgent = [
        await queue_message(sessions, due=t0, recipient=number, template_key="offer")
        for _ in range(3)
    ]
    result = await d.run()
    assert (result.sent, result.deferred) == (2, 1)
    assert [(await message(sessions, m)).status for m in urgent].count("sent") == 2


async def test_the_dispatcher_claims_transactional_messages_before_older_courtesy_ones(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0 = fresh_gateway, a_day()
    settings = delivery_settings(migrated, gateway, delivery_batch_size=2)
    d = dispatcher(dispatchers, sessions, settings, t0)
    greetings = [
        await queue_message(sessions, due=t0 - timedelta(minutes=5), recipient=a_number())
        for _ in range(3)
    ]
    placement = await queue_message(
        sessions, due=t0, recipient=a_number(), template_key="placement_confirmed"
    )
    assert (await d.run()).sent == 2
    assert (await message(sessions, placement)).status == "sent"
    assert [(await message(sessions, m)).status for m in greetings].count("sent") == 1
    assert (await d.run()).sent == 2


# ---------------------------------------------------------------------------------------------
# Email, the development provider, and what the messages' contacts allow.


async def test_an_email_in_lao_reaches_the_mail_server_with_its_subject_and_body(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    smtp_server: tuple[Mailbox, int],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    mailbox, port = smtp_server
    t0 = a_day() + timedelta(hours=11)  # 23:00 in Vientiane: email is not held back
    settings = delivery_settings(
        migrated,
        fresh_gateway,
        email_provider="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        email_from="ສູນບໍລິການຈັດຫາງານ <no-reply@labourx.la>",
    )
    d = dispatcher(dispatchers, sessions, settings, t0)
    subject = "ທ່ານໄດ້ລົງທະບຽນແລ້ວ"
    body = "ສະບາຍດີ ສົມສັກ! ທ່ານໄດ້ລົງທະບຽນຊອກວຽກກັບສູນບໍລິການຈັດຫາງານແລ້ວ.\n\nເລກອ້າງອີງ: P-N0000042"
    address = f"somsak.{uuid.uuid4().hex[:6]}@example.la"
    mail_id = await queue_message(
        sessions, due=t0, recipient=address, channel="email", subject=subject, body=body
    )

    assert (await d.run()).sent == 1
    [mail] = [m for m in mailbox.mails if m["To"] == address]
    assert mail["Subject"] == subject
    # Decoded as RFC 2047 says (adjacent encoded words join without a space), which the
    # stdlib's address parser does not do for display names.
    sender = str(make_header(decode_header(raw_header(mail, "From"))))
    assert sender == "ສູນບໍລິການຈັດຫາງານ <no-reply@labourx.la>"
    content = mail.get_body(preferencelist=("plain",))
    assert content is not None
    assert content.get_content_charset() == "utf-8"
    assert content.get_content().strip() == body
    assert mail["Message-ID"] == f"<{mail_id}@labourx.la>"
    sent = await message(sessions, mail_id)
    assert (sent.status, sent.provider_message_id) == ("sent", f"<{mail_id}@labourx.la>")


async def test_the_development_provider_keeps_messages_for_viewing_instead_of_sending_them(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dispatchers: list[Dispatcher],
) -> None:
    t0, number = a_day(), a_number()
    settings = migrated.model_copy(update={"sms_provider": "dev", "email_provider": "dev"})
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=number)

    assert (await d.run()).sent == 1
    kept = await fetch(migrated, "notify", "SELECT * FROM dev_outbox WHERE message_id = $1", sms)
    assert [(k["recipient"], k["channel"], k["sender"]) for k in kept] == [
        (number, "sms", settings.sms_sender_id)
    ]
    assert kept[0]["body"].startswith("ສະບາຍດີ")
    assert (await message(sessions, sms)).provider_message_id == f"dev-{sms}"


async def test_a_queued_message_whose_channel_closed_since_is_cancelled_not_sent(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0 = fresh_gateway, a_day()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), t0)
    withdrawn_number, merged_number = a_number(), a_number()
    withdrawn = await add_contact(sessions, withdrawn_number, sms_consent="withdrawn")
    merged = await add_contact(sessions, merged_number, merged_into=uuid.uuid4())
    erased = await queue_message(sessions, due=t0, recipient="")  # blanked by an erasure
    to_withdrawn = await queue_message(
        sessions, due=t0, recipient=withdrawn_number, person_id=withdrawn
    )
    to_merged = await queue_message(sessions, due=t0, recipient=merged_number, person_id=merged)

    assert (await d.run()).cancelled == 3
    assert gateway.to(withdrawn_number) == gateway.to(merged_number) == []
    for m in (erased, to_withdrawn, to_merged):
        assert (await message(sessions, m)).status == "cancelled"
        assert (await statuses(sessions, m))[-1][0] == "cancelled"


# ---------------------------------------------------------------------------------------------
# Events on notify.deliveries.


async def test_sent_and_failed_events_reach_notify_deliveries_without_the_text_or_the_number(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    gateway, t0 = fresh_gateway, a_day()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway), t0)
    good_number, bad_number = a_number(), a_number()
    good = await queue_message(sessions, due=t0, recipient=good_number)
    bad = await queue_message(sessions, due=t0 + timedelta(seconds=1), recipient=bad_number)
    gateway.script[:] = [200, 400]
    await d.run(t0 + timedelta(seconds=1))

    consumer = AIOKafkaConsumer(
        NOTIFY_DELIVERIES,
        bootstrap_servers=migrated.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(migrated, "notify").run(stop))
    await consumer.start()
    found: dict[str, dict[str, Any]] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(found) < 2 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key in (str(good).encode(), str(bad).encode()):
                        found[record.key.decode()] = json.loads(record.value)
    finally:
        await consumer.stop()
        stop.set()
        await relay

    sent, failed = found[str(good)], found[str(bad)]
    assert sent["type"] == "lao.labourx.notify.message.sent.v1"
    assert failed["type"] == "lao.labourx.notify.message.failed.v1"
    assert failed["data"]["error_code"] == "http_400"
    good_message = await message(sessions, good)
    assert sent["subject"] == str(good)
    assert sent["data"]["person_id"] == str(good_message.person_id)
    assert sent["data"]["cause_event_id"] == str(good_message.event_id)
    assert sent["data"]["channel"] == "sms"
    assert sent["data"]["template_key"] == "welcome"
    assert sent["correlationid"] == good_message.correlation_id
    assert sent["causationid"] == str(good_message.event_id)
    for event in (sent, failed):
        text = json.dumps(event, ensure_ascii=False)
        assert good_number not in text
        assert bad_number not in text
        assert "ສະບາຍດີ" not in text


# ---------------------------------------------------------------------------------------------
# The job.


async def test_the_delivery_job_wakes_when_a_message_is_queued_and_drains_a_backlog_in_one_run(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    [job] = DELIVERY_JOBS
    assert job.wake_on == "labourx_notify_messages"  # the channel migration 0007 notifies
    assert job.interval_s is not None
    assert job.interval_s <= 10

    t0 = a_day()
    settings = delivery_settings(migrated, fresh_gateway, delivery_batch_size=5)
    d = dispatcher(dispatchers, sessions, settings, t0)
    backlog = [await queue_message(sessions, due=t0, recipient=a_number()) for _ in range(12)]

    result = await drain(sessions, settings, d.providers, clock=lambda: t0)
    assert result.sent == 12
    assert {(await message(sessions, m)).status for m in backlog} == {"sent"}
