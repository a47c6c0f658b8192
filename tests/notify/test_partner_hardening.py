"""Partner webhooks that one partner cannot use against the others (issue 16): URLs checked with
the sending client's own parser when subscribing; every delivery's failure, whatever it is, a
failed attempt of that delivery alone; admins holding or ending any partner's subscription; and
a second subscription to a stream answered 409 naming the first."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.events.registry import PersonRegistered
from tests.notify.conftest import admin, esc_staff, send
from tests.notify.test_partners import (
    PEOPLE,
    Hit,
    Receiver,
    new_partner,
    person,
    quick,
    sessions,
    subscribe,
    webhook_pass,
)
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from aiokafka import AIOKafkaProducer
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from starlette.requests import Request

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("notify_consumer")

__all__ = ["sessions"]  # the module's fixture, shared with test_partners

# URLs the HTTP client cannot send to, each once accepted (the first with 201 in production).
UNSENDABLE = (
    "http://①②⑦.0.0.1/x",  # IDNA refuses it: httpx.InvalidURL
    "https://xn--.com/hook",  # a malformed A-label: an IDNA error, not InvalidURL
    "http://exa mple.com/hook",  # httpx percent-encodes the space into the host
    "http://[::1/hook",
    "http://example.com:0/hook",
    "ftp://example.com/hook",
    "http:///hook",
)


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    """A webhook receiver like test_partners', with two hostile answers: a 500 whose body holds
    a NUL (PostgreSQL text refuses it) and a 200 that never ends, a byte at a time (httpx's
    timeouts are per read, so it never times out by itself)."""
    receiver = Receiver()
    stop = threading.Event()

    def record(request: Request) -> None:
        with receiver.lock:
            receiver.hits.append(Hit(request.url.path, dict(request.headers), b""))

    async def nul(request: Request) -> Response:
        await request.body()
        record(request)
        return Response(b"broken\x00answer", status_code=500)

    async def drip(request: Request) -> StreamingResponse:
        await request.body()
        record(request)

        async def forever() -> AsyncIterator[bytes]:
            while not stop.is_set():
                yield b"."
                await asyncio.sleep(0.1)

        return StreamingResponse(forever(), status_code=200)

    app = Starlette(
        routes=[
            Route("/hooks/{name}", receiver.answer, methods=["POST"]),
            Route("/nul/{name}", nul, methods=["POST"]),
            Route("/drip/{name}", drip, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield receiver
    stop.set()
    server.should_exit = True
    thread.join(10)
    sock.close()


async def subscriptions_of(settings: Settings, partner_id: str) -> list[dict[str, object]]:
    rows = await fetch(
        settings,
        "notify",
        "SELECT id, status, webhook_url, disabled_by, disabled_reason, deleted_by"
        " FROM partner_subscriptions WHERE partner_id = $1 ORDER BY created_at",
        uuid.UUID(partner_id),
    )
    return [dict(r) for r in rows]


async def deliveries_of(settings: Settings, partner_id: str) -> list[dict[str, object]]:
    rows = await fetch(
        settings,
        "notify",
        "SELECT d.id, d.status, d.attempts, d.last_error,"
        " (SELECT array_agg(a.error ORDER BY a.id) FROM partner_delivery_attempts a"
        "   WHERE a.delivery_id = d.id) AS errors"
        " FROM partner_deliveries d WHERE d.partner_id = $1 ORDER BY d.created_at",
        uuid.UUID(partner_id),
    )
    return [dict(r) for r in rows]


# --- URLs checked when subscribing ------------------------------------------------------------


async def test_a_webhook_url_the_client_cannot_send_to_is_refused_naming_the_field(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    """Checked with httpx's own parser, where private addresses are allowed (development) and
    where they are not (production's default), on the partner's route and the admin's."""
    partner = await new_partner(notify_client, migrated)
    strict = migrated.model_copy(update={"partner_webhook_allow_private_addresses": False})
    app = create_app(SERVICES["notify"], strict)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as strict_client,
    ):
        for client in (notify_client, strict_client):
            for url in UNSENDABLE:
                for path, headers in (
                    ("/v1/partners/me/subscriptions", partner.headers),
                    (f"/v1/partners/{partner.id}/subscriptions", admin(migrated)),
                ):
                    refused = await client.post(
                        path,
                        # A wrong scope too: every bad field is named in one answer.
                        json={"stream": PEOPLE, "webhook_url": url, "scope": "personal"},
                        headers=headers,
                    )
                    assert refused.status_code == 422, (url, refused.text)
                    assert refused.headers["content-type"].startswith("application/problem+json")
                    assert {e["field"] for e in refused.json()["errors"]} == {
                        "webhook_url",
                        "scope",
                    }, (url, refused.text)
    # Nothing was saved.
    assert await subscriptions_of(migrated, partner.id) == []


# --- one delivery's failure is its own ------------------------------------------------------------


async def test_a_subscription_whose_stored_url_cannot_be_parsed_fails_alone_and_others_go_once(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    hooks: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """As old data could be (saved before the check, or changed by hand): the pass records a
    failed attempt with the error's class for that delivery, and every other partner's webhook
    is delivered once, not resent pass after pass."""
    broken = await new_partner(notify_client, migrated)
    nul = await new_partner(notify_client, migrated)
    fine = [await new_partner(notify_client, migrated) for _ in range(2)]
    broken_sub = await subscribe(notify_client, broken, webhook_url=hooks.url("never"))
    await fetch(
        migrated,
        "notify",
        "UPDATE partner_subscriptions SET webhook_url = $2 WHERE id = $1",
        uuid.UUID(broken_sub["id"]),
        UNSENDABLE[0],
    )
    await subscribe(notify_client, nul, webhook_url=f"{hooks.base_url}/nul/{nul.code}")
    for partner in fine:
        await subscribe(notify_client, partner, webhook_url=hooks.url(partner.code))

    await send(producer, migrated, PersonRegistered(**person()))
    settings = quick(migrated, [60.0])  # a retry falls due after the test
    for _ in range(3):
        await webhook_pass(settings, sessions)

    for partner in fine:
        assert len(hooks.at(partner.code)) == 1, partner.code
        [delivery] = await deliveries_of(migrated, partner.id)
        assert (delivery["status"], delivery["attempts"]) == ("succeeded", 1)
    [failed] = await deliveries_of(migrated, broken.id)
    assert (failed["status"], failed["attempts"]) == ("pending", 1)
    assert str(failed["last_error"]).startswith("ValueError: is not a URL the webhook client")
    assert failed["errors"] == [failed["last_error"]]
    # A partner's answer is kept without what PostgreSQL cannot hold.
    [answered] = await deliveries_of(migrated, nul.id)
    assert (answered["status"], answered["attempts"]) == ("pending", 1)
    assert answered["last_error"] == "broken\ufffdanswer"
    assert len([h for h in hooks.hits if h.path == f"/nul/{nul.code}"]) == 1


async def test_a_receiver_that_never_finishes_answering_ends_its_attempt_not_the_pass(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    hooks: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Each attempt has a deadline of `partner_webhook_timeout_s` as a whole; the dripping
    answer here never ends, so it runs out however loaded the machine is."""
    slow = await new_partner(notify_client, migrated)
    await subscribe(notify_client, slow, webhook_url=f"{hooks.base_url}/drip/{slow.code}")
    await send(producer, migrated, PersonRegistered(**person()))
    settings = quick(migrated, [60.0]).model_copy(update={"partner_webhook_timeout_s": 1.0})
    await webhook_pass(settings, sessions)
    [delivery] = await deliveries_of(migrated, slow.id)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_error"] == "TimeoutError: no answer within 1 s"


async def test_a_delivery_that_cannot_be_prepared_fails_alone(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    hooks: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A feed entry no rule foresaw (here a birth date that is no date) fails its own
    deliveries when they are built; the next entry goes out."""
    partner = await new_partner(notify_client, migrated)
    await subscribe(notify_client, partner, webhook_url=hooks.url(partner.code))
    odd, usual = person(), person()
    await send(producer, migrated, PersonRegistered(**odd))
    await fetch(
        migrated,
        "notify",
        "UPDATE partner_feed_entries SET data = jsonb_set(data, '{date_of_birth}', '\"31/02\"')"
        " WHERE person_id = $1",
        odd["person_id"],
    )
    await send(producer, migrated, PersonRegistered(**usual))
    await webhook_pass(quick(migrated, [60.0]), sessions)
    first, second = await deliveries_of(migrated, partner.id)
    assert (first["status"], first["attempts"]) == ("pending", 1)
    assert str(first["last_error"]).startswith("not prepared: ValueError")
    assert (second["status"], second["attempts"]) == ("succeeded", 1)
    assert len(hooks.at(partner.code)) == 1


# --- admins hold or end any partner's subscription ------------------------------------------------


async def test_an_admin_disables_or_deletes_any_partners_subscription_and_partners_only_their_own(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    hooks: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await new_partner(notify_client, migrated)
    other = await new_partner(notify_client, migrated)
    subscription = await subscribe(notify_client, owner, webhook_url=hooks.url(owner.code))
    sub_id = subscription["id"]
    own = f"/v1/partners/me/subscriptions/{sub_id}"
    by_admin = f"/v1/partners/{owner.id}/subscriptions/{sub_id}"
    reason = {"reason": "its receiver answers every webhook with a redirect"}
    before = await subscriptions_of(migrated, owner.id)

    # Nobody else can: another partner (as if it did not exist, or not an admin), staff who are
    # not admins, and an admin naming the subscription under another partner.
    for path, headers, status in (
        (f"{own}/disable", other.headers, 404),
        (f"{by_admin}/disable", other.headers, 401),
        (f"{by_admin}/disable", esc_staff(migrated), 403),
        (f"/v1/partners/{other.id}/subscriptions/{sub_id}/disable", admin(migrated), 404),
    ):
        refused = await notify_client.post(path, json=reason, headers=headers)
        assert refused.status_code == status, (path, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    for path, headers, status in (
        (own, other.headers, 404),
        (by_admin, other.headers, 401),
        (by_admin, esc_staff(migrated), 403),
        (f"/v1/partners/{other.id}/subscriptions/{sub_id}", admin(migrated), 404),
    ):
        refused = await notify_client.delete(path, headers=headers)
        assert refused.status_code == status, (path, refused.text)
    assert await subscriptions_of(migrated, owner.id) == before

    # An admin's hold: nothing is sent, and only an admin lifts it.
    held = await notify_client.post(f"{by_admin}/disable", json=reason, headers=admin(migrated))
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "disabled"
    assert held.json()["disabled_by"] == "admin"
    seen = await notify_client.get(own, headers=owner.headers)
    assert seen.json()["disabled_reason"] == reason["reason"]
    assert seen.json()["disabled_by"] == "admin"  # never the admin's name
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(quick(migrated), sessions)
    assert hooks.at(owner.code) == []
    lift = await notify_client.post(f"{own}/enable", headers=owner.headers)
    assert lift.status_code == 409
    assert "administrator" in lift.json()["detail"]
    [row] = await subscriptions_of(migrated, owner.id)
    assert (row["status"], row["disabled_by"]) == ("disabled", "admin-1")

    lifted = await notify_client.post(f"{by_admin}/enable", headers=admin(migrated))
    assert lifted.json()["status"] == "active"
    assert lifted.json()["disabled_by"] is None

    # The partner pauses and resumes its own.
    paused = await notify_client.post(
        f"{own}/disable", json={"reason": "receiver maintenance"}, headers=owner.headers
    )
    assert paused.json()["disabled_by"] == "partner"
    resumed = await notify_client.post(f"{own}/enable", headers=owner.headers)
    assert resumed.json()["status"] == "active"

    # An admin ends it: gone from the partner's list, its waiting deliveries cancelled.
    await send(producer, migrated, PersonRegistered(**person()))
    ended = await notify_client.delete(by_admin, headers=admin(migrated))
    assert ended.status_code == 204
    listed = await notify_client.get("/v1/partners/me/subscriptions", headers=owner.headers)
    assert listed.json() == []
    [row] = await subscriptions_of(migrated, owner.id)
    assert (row["status"], row["deleted_by"]) == ("deleted", "admin-1")
    assert [d["status"] for d in await deliveries_of(migrated, owner.id)] == ["cancelled"]
    assert (await notify_client.get(by_admin, headers=admin(migrated))).status_code == 404


# --- one subscription per stream ----------------------------------------------------------------


async def test_a_second_subscription_to_a_stream_is_a_409_naming_the_first(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    partner = await new_partner(notify_client, migrated)
    first = await subscribe(notify_client, partner)
    for path, headers in (
        ("/v1/partners/me/subscriptions", partner.headers),
        (f"/v1/partners/{partner.id}/subscriptions", admin(migrated)),
    ):
        again = await notify_client.post(
            path, json={"stream": PEOPLE, "scope": "aggregate"}, headers=headers
        )
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["existing_subscription_id"] == first["id"]
        assert first["id"] in again.json()["detail"]
    [row] = await subscriptions_of(migrated, partner.id)
    assert str(row["id"]) == first["id"]
    assert row["status"] == "active"

    # Two at once (each past the check before the other's insert): one is made, the other
    # names it, whichever way the race goes.
    racer = await new_partner(notify_client, migrated)
    answers = await asyncio.gather(
        *(
            notify_client.post(
                "/v1/partners/me/subscriptions", json={"stream": PEOPLE}, headers=racer.headers
            )
            for _ in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    made = next(a for a in answers if a.status_code == 201).json()
    lost = next(a for a in answers if a.status_code == 409).json()
    assert lost["existing_subscription_id"] == made["id"]
    assert (
        await fetchval(
            migrated,
            "notify",
            "SELECT count(*) FROM partner_subscriptions WHERE partner_id = $1",
            uuid.UUID(racer.id),
        )
        == 1
    )
