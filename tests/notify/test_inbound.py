"""The SMS gateway's webhooks: STOP from a person's phone, delivery receipts; a message's
history and the development outbox as staff and admins read them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook

from services.notify.app import SPEC as NOTIFY
from shared.app import create_app
from shared.events.registry import PersonErased
from tests.notify.conftest import admin, esc_staff, send

# The fixtures of delivery's tests (tests/notify/conftest.py is shared, not delivery's to change):
# imported, they are this module's too.
from tests.notify.test_delivery import (  # noqa: F401
    Dispatcher,
    FakeGateway,
    a_day,
    a_number,
    add_contact,
    delivery_settings,
    dispatcher,
    dispatchers_fixture,
    fresh_gateway_fixture,
    gateway_fixture,
    leave_nothing_queued_fixture,
    message,
    notify_engine_fixture,
    queue_message,
    sessions_fixture,
    staged_events,
    statuses,
)
from tests.support import fetch

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiokafka import AIOKafkaProducer
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

SECRET = "whsec_" + "bGFib3VyeC1nYXRld2F5LXRlc3Qtc2VjcmV0LTMyYnl0ZXM="


@pytest.fixture(scope="module")
async def client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """notify's API with the gateway's webhook secret set."""
    settings = migrated.model_copy(update={"sms_inbound_secret": SecretStr(SECRET)})
    app = create_app(NOTIFY, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def signed(body: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """Request arguments of a webhook the gateway signed (Standard Webhooks)."""
    content = json.dumps(body, ensure_ascii=False)
    webhook_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, now, content)
    return {
        "content": content.encode(),
        "headers": {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    }


async def reply(client: httpx.AsyncClient, number: str, text: str) -> httpx.Response:
    body = {"id": f"in-{uuid.uuid4().hex[:10]}", "from": number, "text": text}
    return await client.post("/v1/inbound/sms", **signed(body))


# ---------------------------------------------------------------------------------------------
# STOP and START.


async def test_stop_opts_the_number_out_and_cancels_the_persons_queued_sms_but_not_email(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    t0, number = a_day(), a_number()
    person = await add_contact(sessions, number, email="stop@example.la")
    queued = [
        await queue_message(sessions, due=t0, recipient=number, person_id=person) for _ in range(2)
    ]
    mail = await queue_message(
        sessions, due=t0, recipient="stop@example.la", channel="email", person_id=person
    )

    answer = await reply(client, number, "stop")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "action": "opted_out",
        "person_id": str(person),
        "cancelled": 2,
        "duplicate": False,
    }
    for m in queued:
        assert (await message(sessions, m)).status == "cancelled"
        assert (await statuses(sessions, m))[-1] == ("cancelled", "the person replied STOP")
    [contact] = await fetch(
        migrated, "notify", "SELECT sms_opted_out_at FROM contacts WHERE person_id = $1", person
    )
    assert contact["sms_opted_out_at"] is not None

    # A message written after the STOP (e.g. by a handler that raced it) is not sent either.
    later = await queue_message(sessions, due=t0, recipient=number, person_id=person)
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, fresh_gateway), t0)
    result = await d.run()
    assert result.cancelled >= 1
    assert (await message(sessions, later)).status == "cancelled"
    assert (await message(sessions, mail)).status == "sent"  # email was not stopped
    assert fresh_gateway.to(number) == []


async def test_stop_from_a_phone_two_people_share_stops_sms_to_both(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    t0, number = a_day(), a_number()
    parent = await add_contact(sessions, number)
    child = await add_contact(sessions, number)
    to_parent = await queue_message(sessions, due=t0, recipient=number, person_id=parent)
    to_child = await queue_message(sessions, due=t0, recipient=number, person_id=child)

    assert (await reply(client, number, "STOP")).status_code == 200
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, fresh_gateway), t0)
    await d.run()

    assert (await message(sessions, to_parent)).status == "cancelled"
    assert (await message(sessions, to_child)).status == "cancelled"
    assert fresh_gateway.to(number) == []


@pytest.mark.parametrize("text", ["ຢຸດ", " STOP ALL ", "Unsubscribe.", "stopall"])
async def test_stop_in_lao_and_its_english_forms_opt_out(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    number = a_number()
    await add_contact(sessions, number)
    answer = await reply(client, number, text)
    assert answer.json()["action"] == "opted_out"


async def test_a_message_that_only_mentions_stop_is_kept_for_staff_and_opts_nobody_out(
    client: httpx.AsyncClient, migrated: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    number = a_number()
    person = await add_contact(sessions, number)
    text = "please stop writing my name wrong, it is Somsack"
    answer = await reply(client, number, text)
    assert answer.json()["action"] == "no_keyword"
    [kept] = await fetch(
        migrated, "notify", "SELECT text, person_id FROM inbound_sms WHERE sender = $1", number
    )
    assert (kept["text"], kept["person_id"]) == (text, person)
    assert not await fetch(
        migrated, "notify", "SELECT 1 FROM sms_opt_outs WHERE phone = $1", number
    )


async def test_start_after_stop_lets_sms_through_again(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
    producer: AIOKafkaProducer,
    notify_consumer: None,
) -> None:
    t0, number = a_day(), a_number()
    person = await add_contact(sessions, number)
    await reply(client, number, "STOP")
    assert (await reply(client, number, "START")).json()["action"] == "opted_in"

    sms = await queue_message(sessions, due=t0, recipient=number, person_id=person)
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, fresh_gateway), t0)
    assert (await d.run()).sent == 1
    assert (await message(sessions, sms)).status == "sent"


async def test_a_stop_from_a_number_no_contact_has_still_keeps_sms_from_it(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    t0, number = a_day(), a_number()
    answer = await reply(client, number, "STOP")
    assert answer.json() == {
        "action": "opted_out",
        "person_id": None,
        "cancelled": 0,
        "duplicate": False,
    }
    sms = await queue_message(sessions, due=t0, recipient=number)
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, fresh_gateway), t0)
    await d.run()
    assert (await message(sessions, sms)).status == "cancelled"


async def test_a_national_number_is_matched_to_the_contact_in_e164(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    number = a_number()
    person = await add_contact(sessions, number)
    national = "0" + number.removeprefix("+856")
    answer = await reply(client, national, "STOP")
    assert answer.json()["person_id"] == str(person)


async def test_the_same_inbound_webhook_delivered_twice_is_acted_on_once(
    client: httpx.AsyncClient, migrated: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    number = a_number()
    await add_contact(sessions, number)
    body = {"id": f"in-{uuid.uuid4().hex[:10]}", "from": number, "text": "STOP"}
    first = await client.post("/v1/inbound/sms", **signed(body))
    again = await client.post("/v1/inbound/sms", **signed(body))
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    rows = await fetch(migrated, "notify", "SELECT 1 FROM inbound_sms WHERE sender = $1", number)
    assert len(rows) == 1


# ---------------------------------------------------------------------------------------------
# Who may call the webhooks.


async def test_webhooks_without_a_valid_signature_are_refused_and_change_nothing(
    client: httpx.AsyncClient, migrated: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    number = a_number()
    await add_contact(sessions, number)
    body = {"id": "in-forged", "from": number, "text": "STOP"}
    forged = signed(body, secret="whsec_" + "c29tZW9uZS1lbHNlcy1zZWNyZXQtdGhhdC1pcy1sb25n")
    unsigned = {"json": body}
    for attempt in (forged, unsigned):
        answer = await client.post("/v1/inbound/sms", **attempt)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
    receipt = await client.post("/v1/receipts/sms", json={"id": "x", "status": "delivered"})
    assert receipt.status_code == 401
    assert not await fetch(
        migrated, "notify", "SELECT 1 FROM sms_opt_outs WHERE phone = $1", number
    )


async def test_webhooks_refuse_everything_while_no_secret_is_configured(
    notify_client: httpx.AsyncClient,
) -> None:
    body = {"id": "in-1", "from": a_number(), "text": "STOP"}
    answer = await notify_client.post("/v1/inbound/sms", **signed(body))
    assert answer.status_code == 503
    assert answer.json()["type"].endswith("/webhooks-not-configured")


# ---------------------------------------------------------------------------------------------
# Delivery receipts.


async def sent_sms(
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
    dispatchers: list[Dispatcher],
    **settings: Any,
) -> tuple[uuid.UUID, str]:
    """An SMS the gateway accepted, and the gateway's id of it."""
    t0 = a_day()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, gateway, **settings), t0)
    sms = await queue_message(sessions, due=t0, recipient=a_number())
    await d.run()
    return sms, gateway.accepted[str(sms)]


async def test_a_delivered_receipt_moves_a_sent_sms_to_delivered_once(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    sms, gateway_id = await sent_sms(migrated, sessions, fresh_gateway, dispatchers)
    receipt = {"id": gateway_id, "status": "delivered"}

    answer = await client.post("/v1/receipts/sms", **signed(receipt))
    assert answer.json() == {"message_id": str(sms), "status": "delivered", "changed": True}
    again = await client.post("/v1/receipts/sms", **signed(receipt))
    assert again.json()["changed"] is False

    assert (await message(sessions, sms)).status == "delivered"
    assert [s for s, _ in await statuses(sessions, sms)] == [
        "queued",
        "sending",
        "sent",
        "delivered",
    ]
    assert [e["type"] for e in await staged_events(migrated, sms)] == [
        "lao.labourx.notify.message.sent.v1",
        "lao.labourx.notify.message.delivered.v1",
    ]


async def test_an_expired_receipt_fails_a_sent_sms(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    sms, gateway_id = await sent_sms(migrated, sessions, fresh_gateway, dispatchers)
    receipt = {"id": gateway_id, "status": "expired", "error": "EXP-24H"}

    answer = await client.post("/v1/receipts/sms", **signed(receipt))
    assert answer.json()["status"] == "failed"
    failed = await message(sessions, sms)
    assert (failed.status, failed.last_error) == ("failed", "receipt_expired: EXP-24H")
    event = (await staged_events(migrated, sms))[-1]
    assert event["type"] == "lao.labourx.notify.message.failed.v1"
    assert (event["data"]["error_code"], event["data"]["after_sent"]) == ("receipt_expired", True)


async def test_a_receipt_with_our_reference_settles_an_sms_whose_outcome_was_unknown(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    fresh_gateway.delay_s = 1.0  # the gateway accepts it but answers too late
    t0 = a_day()
    settings = delivery_settings(
        migrated, fresh_gateway, sms_gateway_idempotent=False, sms_gateway_timeout_s=0.2
    )
    d = dispatcher(dispatchers, sessions, settings, t0)
    sms = await queue_message(sessions, due=t0, recipient=a_number())
    await d.run()
    assert (await message(sessions, sms)).status == "failed"

    receipt = {"id": fresh_gateway.accepted[str(sms)], "reference": str(sms), "status": "delivered"}
    answer = await client.post("/v1/receipts/sms", **signed(receipt))
    assert answer.json()["status"] == "delivered"
    settled = await message(sessions, sms)
    assert (settled.status, settled.provider_message_id) == ("delivered", receipt["id"])


async def test_a_receipt_for_no_known_message_is_not_found(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/receipts/sms", **signed({"id": "gw-nobody-knows", "status": "delivered"})
    )
    assert answer.status_code == 404
    bad = await client.post("/v1/receipts/sms", **signed({"status": "delivered"}))
    assert bad.status_code == 422


# ---------------------------------------------------------------------------------------------
# Reading a message's history and the development outbox.


async def test_staff_read_a_messages_status_history_within_their_province(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    fresh_gateway: FakeGateway,
    dispatchers: list[Dispatcher],
) -> None:
    fresh_gateway.script[:] = [503]
    t0 = a_day()
    d = dispatcher(dispatchers, sessions, delivery_settings(migrated, fresh_gateway), t0)
    sms = await queue_message(sessions, due=t0, recipient=a_number())
    await d.run()
    await d.run(t0 + timedelta(minutes=5))

    answer = await client.get(f"/v1/messages/{sms}/statuses", headers=esc_staff(migrated))
    assert answer.status_code == 200, answer.text
    history = answer.json()
    assert (history["status"], history["attempts"]) == ("sent", 2)
    assert [s["status"] for s in history["statuses"]] == [
        "queued",
        "sending",
        "queued",
        "sending",
        "sent",
    ]
    assert history["statuses"][2]["detail"].startswith("http_503")

    elsewhere = await client.get(
        f"/v1/messages/{sms}/statuses", headers=esc_staff(migrated, "LA-CH")
    )
    assert elsewhere.status_code == 404


async def test_admins_see_what_the_development_provider_kept_and_staff_do_not(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dispatchers: list[Dispatcher],
) -> None:
    t0, number = a_day(), a_number()
    d = dispatcher(dispatchers, sessions, migrated, t0)  # the development providers
    sms = await queue_message(sessions, due=t0, recipient=number)
    await d.run()

    kept = await client.get("/v1/dev/outbox", params={"recipient": number}, headers=admin(migrated))
    assert kept.status_code == 200
    [item] = kept.json()
    assert (item["message_id"], item["channel"]) == (str(sms), "sms")
    assert item["body"].startswith("ສະບາຍດີ")
    staff = await client.get("/v1/dev/outbox", headers=esc_staff(migrated))
    assert staff.status_code == 403


# ---------------------------------------------------------------------------------------------
# Erasure.


async def test_an_erasure_drops_the_kept_copies_and_blanks_what_the_person_sent_us(
    client: httpx.AsyncClient,
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dispatchers: list[Dispatcher],
    producer: AIOKafkaProducer,
    notify_consumer: None,
) -> None:
    t0, number = a_day(), a_number()
    person = await add_contact(sessions, number)
    d = dispatcher(dispatchers, sessions, migrated, t0)  # the development providers
    sms = await queue_message(sessions, due=t0, recipient=number, person_id=person)
    await d.run()
    await reply(client, number, "STOP")

    erased = PersonErased(person_id=person, erased_by="esc-vt-1", erased_at=datetime.now(UTC))
    await send(producer, migrated, erased)  # through the broker and notify's consumer

    assert not await fetch(
        migrated, "notify", "SELECT 1 FROM dev_outbox WHERE message_id = $1", sms
    )
    [inbound] = await fetch(
        migrated,
        "notify",
        "SELECT sender, text, action FROM inbound_sms WHERE person_id = $1",
        person,
    )
    assert (inbound["sender"], inbound["text"], inbound["action"]) == ("", "", "opted_out")
    # The number stays opted out: it said STOP, whoever it belongs to now.
    assert await fetch(migrated, "notify", "SELECT 1 FROM sms_opt_outs WHERE phone = $1", number)
