"""Partner feeds end to end: events from the broker through notify's consumer into signed
webhooks (a real HTTP server), the pull feed and per-partner Kafka topics; object-level access;
scopes, pseudonyms and consent; and a final scan of every payload partners received.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from labourx.catalog import SERVICES
from services.notify.partners import addresses, pseudonyms
from services.notify.partners.jobs import (
    ensure_partner_topics,
    send_history,
    sweep_lapsed_consents,
)
from services.notify.partners.presenting import master_key
from services.notify.partners.webhook_client import WebhookClient
from services.notify.partners.webhook_sender import deliver_webhooks
from shared import clock
from shared.app import create_app
from shared.db import create_engine, session_factory
from shared.events.matching import AgencyStatusChanged
from shared.events.registry import (
    ConsentChanged,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonUpdated,
    RegistrationConsent,
)
from shared.jobs import run_once
from shared.outbox.relay import OutboxRelay
from shared.sealing import new_key, open_sealed, partner_person_key
from shared.spec import PeriodicJob
from tests.notify.conftest import admin, person_fields, send
from tests.support import fetch, fetchval, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from starlette.requests import Request

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("notify_consumer")

PEOPLE = "registry.people"

# Every payload a partner received in this module: (partner code, channel, CloudEvent document).
RECEIVED: list[tuple[str, str, dict[str, Any]]] = []
# Every person made here; the sharing consents given at some point ("agency:<code>" or
# "category:<name>", person id); each partner's category.
MADE: list[dict[str, Any]] = []
CONSENTED: set[tuple[str, str]] = set()
CATEGORY: dict[str, str] = {}


# --- a real webhook receiver ----------------------------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on a free local port: records every request, answers as planned."""

    base_url: str = ""
    hits: list[Hit] = field(default_factory=list)
    plans: dict[str, list[int]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"

    def at(self, name: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == f"/hooks/{name}"]

    async def answer(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self.lock:
            self.hits.append(Hit(path, dict(request.headers), body))
            plan = self.plans.get(path)
            status = plan.pop(0) if plan else (500 if path in self.failing else 204)
        return Response(status_code=status)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    app = Starlette(routes=[Route("/hooks/{name}", hooks.answer, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    hooks.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield hooks
    server.should_exit = True
    thread.join(10)
    sock.close()


def webhook_documents(code: str, hits: list[Hit]) -> list[dict[str, Any]]:
    documents = [json.loads(hit.body) for hit in hits]
    RECEIVED.extend((code, "webhook", d) for d in documents)
    return documents


# --- jobs run as `labourx jobs notify` runs them --------------------------------------------------


@pytest.fixture(scope="module")
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "notify")
    yield session_factory(engine)
    await engine.dispose()


def quick(settings: Settings, schedule: list[float] | None = None) -> Settings:
    """Settings whose retries come within the test's patience."""
    return settings.model_copy(
        update={"partner_webhook_retry_schedule_s": schedule or [0.2, 0.2, 0.2]}
    )


async def webhook_pass(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> int:
    return await run_once(PeriodicJob("partner-webhooks", deliver_webhooks), settings, sessions)


# --- partners through the API -------------------------------------------------------------


@dataclass
class Partner:
    id: str
    code: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


async def new_partner(
    client: httpx.AsyncClient,
    settings: Settings,
    *,
    category: str = "un_agencies",
    max_scope: str = "pseudonymised",
) -> Partner:
    code = f"P{uuid.uuid4().hex[:8].upper()}"
    answer = await client.post(
        "/v1/partners",
        json={
            "code": code,
            "name": f"Partner {code}",
            "category": category,
            "max_scope": max_scope,
        },
        headers=admin(settings),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    CATEGORY[code] = category
    return Partner(body["partner"]["id"], code, body["key"]["api_key"])


async def subscribe(
    client: httpx.AsyncClient, partner: Partner, stream: str = PEOPLE, **fields: Any
) -> dict[str, Any]:
    answer = await client.post(
        "/v1/partners/me/subscriptions",
        json={"stream": stream, **fields},
        headers=partner.headers,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def read_all(
    client: httpx.AsyncClient, partner: Partner, stream: str = PEOPLE, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Every item after `after`, page by page, and the cursor to resume from."""
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 50}
        if after:
            params["after"] = after
        answer = await client.get(f"/v1/feeds/{stream}", params=params, headers=partner.headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        RECEIVED.extend((partner.code, "feed", d) for d in page["items"])
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items, after


def person(*shares_with: str, **overrides: Any) -> dict[str, Any]:
    """A person's registration, remembered for the final scan; a unique skill tag finds their
    entries in any scope that keeps skills (person level: only partners they share with).

    `shares_with` ("agency:<code>" or "category:<name>"): partner-sharing consents given at the
    counter, with the registration."""
    sharing = [
        RegistrationConsent(
            purpose="partner_sharing",
            status="given",
            agency=value if kind == "agency" else None,
            category=value if kind == "category" else None,
        )
        for kind, value in (scope.split(":", 1) for scope in shares_with)
    ]
    fields = person_fields(skills=[f"tag-{uuid.uuid4().hex[:10]}"], **overrides)
    fields["consents"] = [*fields["consents"], *sharing]
    MADE.append(fields)
    CONSENTED.update((scope, str(fields["person_id"])) for scope in shares_with)
    return fields


UN = "category:un_agencies"  # the category `new_partner` makes partners of by default


def is_aggregate(item: dict[str, Any]) -> bool:
    """An item that names nobody: no pseudonym, no subject, nothing to single a person out."""
    text = json.dumps(item)
    return (
        item["partnerscope"] == "aggregate"
        and "subject" not in item
        and "pseudonym" not in text
        and "skills" not in item["data"]
    )


def tagged(items: list[dict[str, Any]], fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in items if fields["skills"][0] in json.dumps(i.get("data", {}))]


async def consent(
    producer: AIOKafkaProducer,
    settings: Settings,
    person_id: uuid.UUID,
    status: str,
    *,
    agency: str | None = None,
    category: str | None = None,
    expires_on: date | None = None,
) -> None:
    await send(
        producer,
        settings,
        ConsentChanged(
            person_id=person_id,
            consent_id=uuid.uuid4(),
            purpose="partner_sharing",
            agency=agency,
            category=category,
            status=status,
            expires_on=expires_on,
            method="signed",
            recorded_by="esc-vt-1",
            recorded_at=datetime.now(UTC),
        ),
    )


# --- keys -------------------------------------------------------------------------------------


async def test_a_partner_key_is_shown_once_kept_hashed_and_can_be_rotated_and_revoked(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    partner = await new_partner(notify_client, migrated)
    me = await notify_client.get("/v1/partners/me", headers=partner.headers)
    assert me.status_code == 200
    assert me.json()["code"] == partner.code
    stored = await fetch(
        migrated,
        "notify",
        "SELECT prefix, digest FROM partner_keys WHERE partner_id = $1",
        uuid.UUID(partner.id),
    )
    assert len(stored) == 1
    assert partner.key not in stored[0]["digest"]
    keys = await notify_client.get(f"/v1/partners/{partner.id}/keys", headers=admin(migrated))
    assert "api_key" not in keys.json()[0]
    assert partner.key.startswith(keys.json()[0]["prefix"])

    rotated = await notify_client.post("/v1/partners/me/keys/rotate", headers=partner.headers)
    assert rotated.status_code == 201
    new_key = rotated.json()["api_key"]
    assert (await notify_client.get("/v1/partners/me", headers=partner.headers)).status_code == 401
    new = {"X-API-Key": new_key}
    assert (await notify_client.get("/v1/partners/me", headers=new)).status_code == 200

    revoked = await notify_client.post(
        f"/v1/partners/{partner.id}/keys/{rotated.json()['id']}/revoke", headers=admin(migrated)
    )
    assert revoked.status_code == 200
    assert (await notify_client.get("/v1/partners/me", headers=new)).status_code == 401
    assert (await notify_client.get("/v1/partners/me")).status_code == 401


async def test_only_admins_manage_partners_and_a_partner_stays_within_its_scope(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    from tests.notify.conftest import esc_staff

    refused = await notify_client.post(
        "/v1/partners",
        json={"code": "NOPE", "name": "x", "category": "ngos"},
        headers=esc_staff(migrated),
    )
    assert refused.status_code == 403
    partner = await new_partner(notify_client, migrated, max_scope="aggregate")
    wider = await notify_client.post(
        "/v1/partners/me/subscriptions",
        json={"stream": PEOPLE, "scope": "personal"},
        headers=partner.headers,
    )
    assert wider.status_code == 422
    assert wider.json()["errors"][0]["field"] == "scope"


# --- webhooks -----------------------------------------------------------------------------------


async def test_webhooks_are_signed_per_standard_webhooks_and_carry_pseudonyms_only(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partner = await new_partner(notify_client, migrated)
    name = f"signed-{partner.code}"
    subscription = await subscribe(notify_client, partner, webhook_url=receiver.url(name))
    secret = subscription["webhook_secret"]
    assert secret.startswith("whsec_")
    listed = await notify_client.get("/v1/partners/me/subscriptions", headers=partner.headers)
    assert "webhook_secret" not in listed.json()[0]

    fields = person(UN)
    await send(producer, migrated, PersonRegistered(**fields))
    await webhook_pass(quick(migrated), sessions)
    hits = receiver.at(name)
    assert len(hits) == 1
    body = Webhook(secret).verify(hits[0].body, hits[0].headers)
    assert body["type"] == PersonRegistered.event_type()
    assert body["partnerscope"] == "pseudonymised"
    assert body["data"]["person_pseudonym"].startswith("ps_")
    assert "given_name_en" not in body["data"]
    assert "person_id" not in body["data"]
    webhook_documents(partner.code, hits)

    # A rotated secret signs from now on; the old one still verifies during the grace period.
    rotated = await notify_client.post(
        f"/v1/partners/me/subscriptions/{subscription['id']}/secret/rotate",
        headers=partner.headers,
    )
    new_secret = rotated.json()["webhook_secret"]
    assert new_secret != secret
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(quick(migrated), sessions)
    latest = receiver.at(name)[-1]
    Webhook(new_secret).verify(latest.body, latest.headers)
    Webhook(secret).verify(latest.body, latest.headers)
    webhook_documents(partner.code, [latest])

    # An admin can rotate it too (a partner that lost its copy), only under the right partner.
    other = await new_partner(notify_client, migrated)
    wrong = await notify_client.post(
        f"/v1/partners/{other.id}/subscriptions/{subscription['id']}/secret/rotate",
        headers=admin(migrated),
    )
    assert wrong.status_code == 404
    by_admin = await notify_client.post(
        f"/v1/partners/{partner.id}/subscriptions/{subscription['id']}/secret/rotate",
        headers=admin(migrated),
    )
    assert by_admin.status_code == 200, by_admin.text
    admin_secret = by_admin.json()["webhook_secret"]
    assert admin_secret not in (secret, new_secret)
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(quick(migrated), sessions)
    latest = receiver.at(name)[-1]
    Webhook(admin_secret).verify(latest.body, latest.headers)
    webhook_documents(partner.code, [latest])


async def test_a_failed_webhook_is_retried_with_the_same_id_until_it_succeeds(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partner = await new_partner(notify_client, migrated)
    name = f"flaky-{partner.code}"
    receiver.plans[f"/hooks/{name}"] = [500, 503]
    subscription = await subscribe(notify_client, partner, webhook_url=receiver.url(name))
    counted_before = {outcome: attempts_counted(outcome) for outcome in ("retried", "succeeded")}
    await send(producer, migrated, PersonRegistered(**person()))
    settings = quick(migrated, [0.2, 0.2, 0.2])

    async def delivered() -> bool:
        await webhook_pass(settings, sessions)
        return len(receiver.at(name)) >= 3

    await wait_until(delivered, timeout_s=20, interval_s=0.3)
    hits = receiver.at(name)
    assert len(hits) == 3
    assert len({h.headers["webhook-id"] for h in hits}) == 1
    for hit in hits:
        Webhook(subscription["webhook_secret"]).verify(hit.body, hit.headers)
    webhook_documents(partner.code, hits)
    page = await notify_client.get("/v1/partners/me/deliveries", headers=partner.headers)
    [delivery] = page.json()["items"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 3
    assert delivery["id"] == hits[0].headers["webhook-id"]
    attempts = await fetch(
        migrated,
        "notify",
        "SELECT status_code FROM partner_delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        uuid.UUID(delivery["id"]),
    )
    assert [a["status_code"] for a in attempts] == [500, 503, 204]
    # What the dashboards and the alert read (at least: other subscriptions may be delivered
    # by the same passes).
    assert attempts_counted("retried") >= counted_before["retried"] + 2
    assert attempts_counted("succeeded") >= counted_before["succeeded"] + 1


def attempts_counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "labourx_partner_webhook_attempts_total", {"outcome": outcome}
    )
    return value or 0.0


async def test_persistent_failure_disables_the_subscription_until_re_enabled_and_redelivered(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partner = await new_partner(notify_client, migrated)
    name = f"down-{partner.code}"
    receiver.failing.add(f"/hooks/{name}")
    subscription = await subscribe(notify_client, partner, webhook_url=receiver.url(name))
    await send(producer, migrated, PersonRegistered(**person()))
    settings = quick(migrated, [0.1, 0.1])

    async def disabled() -> bool:
        await webhook_pass(settings, sessions)
        answer = await notify_client.get(
            f"/v1/partners/me/subscriptions/{subscription['id']}", headers=partner.headers
        )
        return bool(answer.json()["status"] == "disabled")

    await wait_until(disabled, timeout_s=20, interval_s=0.2)
    assert len(receiver.at(name)) == 3  # the first attempt and both retries
    webhook_documents(partner.code, receiver.at(name))
    [delivery] = (
        await notify_client.get("/v1/partners/me/deliveries", headers=partner.headers)
    ).json()["items"]
    assert delivery["status"] == "failed"
    assert delivery["last_status_code"] == 500

    # Nothing is sent to a disabled subscription, and a redelivery waits for it to be enabled.
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(settings, sessions)
    assert len(receiver.at(name)) == 3
    refused = await notify_client.post(
        f"/v1/partners/me/deliveries/{delivery['id']}/redeliver", headers=partner.headers
    )
    assert refused.status_code == 409

    receiver.failing.discard(f"/hooks/{name}")
    enabled = await notify_client.post(
        f"/v1/partners/me/subscriptions/{subscription['id']}/enable", headers=partner.headers
    )
    assert enabled.json()["status"] == "active"
    assert enabled.json()["disabled_reason"] is None
    again = await notify_client.post(
        f"/v1/partners/me/deliveries/{delivery['id']}/redeliver", headers=partner.headers
    )
    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    await webhook_pass(settings, sessions)
    latest = receiver.at(name)[-1]
    assert latest.headers["webhook-id"] == delivery["id"]
    Webhook(subscription["webhook_secret"]).verify(latest.body, latest.headers)
    webhook_documents(partner.code, [latest])
    done = await notify_client.get(
        f"/v1/partners/me/deliveries/{delivery['id']}", headers=partner.headers
    )
    assert done.json()["status"] == "succeeded"

    # An admin may redeliver too.
    by_admin = await notify_client.post(
        f"/v1/partners/{partner.id}/deliveries/{delivery['id']}/redeliver",
        headers=admin(migrated),
    )
    assert by_admin.status_code == 200
    await webhook_pass(settings, sessions)
    assert receiver.at(name)[-1].headers["webhook-id"] == delivery["id"]
    webhook_documents(partner.code, receiver.at(name)[-1:])


# --- webhook addresses ---------------------------------------------------------------------------


async def test_webhooks_into_private_networks_are_refused_when_subscribing_and_when_sending(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """As in production: a partner could otherwise make labourx call its internal services or
    the cloud's metadata endpoint."""
    strict = migrated.model_copy(update={"partner_webhook_allow_private_addresses": False})
    partner = await new_partner(notify_client, migrated)
    app = create_app(SERVICES["notify"], strict)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        for url in (
            "http://10.0.0.5/hook",
            "https://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/hook",
            "http://localhost:8080/hook",
            receiver.url("never"),
        ):
            for path, headers in (
                ("/v1/partners/me/subscriptions", partner.headers),
                (f"/v1/partners/{partner.id}/subscriptions", admin(migrated)),
            ):
                refused = await client.post(
                    path, json={"stream": PEOPLE, "webhook_url": url}, headers=headers
                )
                assert refused.status_code == 422, (url, refused.text)
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert refused.json()["errors"][0]["field"] == "webhook_url"
        listed = await client.get("/v1/partners/me/subscriptions", headers=partner.headers)
        assert listed.json() == []

    # A name that resolves to a private address (DNS can change after subscribing; here one made
    # where private addresses are allowed): the job resolves it and sends nothing.
    name = f"rebound-{partner.code}"
    port = receiver.base_url.rsplit(":", 1)[1]
    await subscribe(notify_client, partner, webhook_url=f"http://localhost:{port}/hooks/{name}")
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(quick(strict, [0.2, 0.2, 0.2]), sessions)
    assert receiver.at(name) == []
    [delivery] = (
        await notify_client.get("/v1/partners/me/deliveries", headers=partner.headers)
    ).json()["items"]
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("blocked_address: localhost resolves to")

    # Where they are allowed, the retry goes out.
    async def delivered() -> bool:
        await webhook_pass(quick(migrated), sessions)
        return bool(receiver.at(name))

    await wait_until(delivered, timeout_s=10, interval_s=0.2)
    webhook_documents(partner.code, receiver.at(name))


async def test_a_vetted_webhook_goes_to_the_address_checked_with_its_host_name_kept(
    migrated: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second lookup by the HTTP client could answer differently (DNS rebinding): the POST
    goes to the address that was checked. (The check is stubbed to vouch for the receiver.)"""
    import ipaddress

    from services.notify.partners import webhook_client

    checked: list[str] = []

    async def vouch(host: str, port: int, timeout_s: float) -> addresses.IPAddress:
        checked.append(host)
        return ipaddress.ip_address("127.0.0.1")

    monkeypatch.setattr(webhook_client, "vetted_address", vouch)
    strict = migrated.model_copy(update={"partner_webhook_allow_private_addresses": False})
    client = WebhookClient(strict)
    port = receiver.base_url.rsplit(":", 1)[1]
    try:
        for _ in range(2):
            answer = await client.post(
                f"http://hooks.partner.example:{port}/hooks/pinned", b"{}", {}
            )
            assert answer.status_code == 204
    finally:
        await client.aclose()
    assert checked == ["hooks.partner.example"]  # once per host and pass
    hits = receiver.at("pinned")
    assert [h.headers["host"] for h in hits] == [f"hooks.partner.example:{port}"] * 2


# --- object-level access ------------------------------------------------------------------------


async def test_a_partner_cannot_see_another_partners_subscriptions_deliveries_or_feeds(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = await new_partner(notify_client, migrated)
    b = await new_partner(notify_client, migrated)
    await subscribe(notify_client, a, "matching.vacancies")
    b_sub = await subscribe(notify_client, b, webhook_url=receiver.url(f"b-{b.code}"))
    await send(producer, migrated, PersonRegistered(**person()))
    await webhook_pass(quick(migrated), sessions)
    webhook_documents(b.code, receiver.at(f"b-{b.code}"))
    [b_delivery] = (
        await notify_client.get("/v1/partners/me/deliveries", headers=b.headers)
    ).json()["items"]
    b_items, b_cursor = await read_all(notify_client, b)
    assert b_items
    assert b_cursor

    for path in (
        f"/v1/partners/me/subscriptions/{b_sub['id']}",
        f"/v1/partners/me/deliveries/{b_delivery['id']}",
        f"/v1/feeds/{PEOPLE}",
    ):
        assert (await notify_client.get(path, headers=a.headers)).status_code == 404, path
    for path in (
        f"/v1/partners/me/subscriptions/{b_sub['id']}/enable",
        f"/v1/partners/me/subscriptions/{b_sub['id']}/secret/rotate",
        f"/v1/partners/me/deliveries/{b_delivery['id']}/redeliver",
    ):
        assert (await notify_client.post(path, headers=a.headers)).status_code == 404, path
    assert (
        await notify_client.delete(
            f"/v1/partners/me/subscriptions/{b_sub['id']}", headers=a.headers
        )
    ).status_code == 404
    own = await notify_client.get("/v1/partners/me/subscriptions", headers=a.headers)
    assert [s["stream"] for s in own.json()] == ["matching.vacancies"]
    assert (await notify_client.get("/v1/partners/me/deliveries", headers=a.headers)).json()[
        "items"
    ] == []

    # B's cursor means nothing to A (on a stream A reads too).
    await subscribe(notify_client, a)
    foreign = await notify_client.get(
        f"/v1/feeds/{PEOPLE}", params={"after": b_cursor}, headers=a.headers
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "after"
    # And a staff token is no partner key.
    assert (
        await notify_client.get(f"/v1/feeds/{PEOPLE}", headers=admin(migrated))
    ).status_code == 401


# --- the pull feed --------------------------------------------------------------------------------


async def test_the_feed_is_stable_resumable_and_carries_the_removal_of_an_erased_person(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    partner = await new_partner(notify_client, migrated)
    await subscribe(notify_client, partner)
    _, start = await read_all(notify_client, partner)
    people = [person(UN) for _ in range(3)]
    for fields in people:
        await send(producer, migrated, PersonRegistered(**fields))

    first = await notify_client.get(
        f"/v1/feeds/{PEOPLE}", params={"after": start, "limit": 2}, headers=partner.headers
    )
    page = first.json()
    RECEIVED.extend((partner.code, "feed", d) for d in page["items"])
    assert len(page["items"]) == 2
    assert page["has_more"] is True
    rest, end = await read_all(notify_client, partner, after=page["next_cursor"])
    everything, again_end = await read_all(notify_client, partner, after=start)
    assert [i["id"] for i in everything] == [i["id"] for i in page["items"] + rest]
    assert len(everything) == 3
    assert end == again_end
    quiet = await notify_client.get(
        f"/v1/feeds/{PEOPLE}", params={"after": end}, headers=partner.headers
    )
    assert quiet.json()["items"] == []
    assert quiet.json()["next_cursor"] == end

    erased = people[1]
    [before] = tagged(everything, erased)
    pseudonym = before["data"]["person_pseudonym"]
    await send(
        producer,
        migrated,
        PersonErased(
            person_id=erased["person_id"], erased_by="esc-vt-1", erased_at=datetime.now(UTC)
        ),
    )
    after_erasure, _ = await read_all(notify_client, partner, after=end)
    [removal] = after_erasure
    assert removal["partnerkind"] == "removal"
    assert removal["data"] == {"reason": "erased", "person_pseudonym": pseudonym}
    # Re-read from the start: the same entries in the same order, the erased person's without
    # anything that leads back to them.
    reread, _ = await read_all(notify_client, partner, after=start)
    assert [i["id"] for i in reread[:3]] == [i["id"] for i in everything]
    assert pseudonym not in json.dumps(reread[:3])
    held = await fetchval(
        migrated,
        "notify",
        "SELECT count(*) FROM partner_feed_entries WHERE kind = 'event' AND data::text LIKE $1",
        f"%{erased['given_name_en']}%",
    )
    assert held == 0


async def test_pseudonyms_are_stable_for_a_partner_and_differ_between_partners(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    a = await new_partner(notify_client, migrated)
    b = await new_partner(notify_client, migrated, category="ngos")
    await subscribe(notify_client, a)
    await subscribe(notify_client, b)
    fields = person(UN, "category:ngos")
    await send(producer, migrated, PersonRegistered(**fields))
    await send(
        producer,
        migrated,
        PersonUpdated(
            **(fields | {"phone": "+8562059990001"}),
            changed_fields=["phone"],
            record_version=2,
            updated_by="esc-vt-1",
            updated_at=datetime.now(UTC),
        ),
    )
    a_items = tagged((await read_all(notify_client, a))[0], fields)
    b_items = tagged((await read_all(notify_client, b))[0], fields)
    assert len(a_items) == len(b_items) == 2
    a_names = {i["data"]["person_pseudonym"] for i in a_items}
    b_names = {i["data"]["person_pseudonym"] for i in b_items}
    assert len(a_names) == 1
    assert len(b_names) == 1
    assert a_names != b_names
    # Nothing else in the two feeds joins them: not the items' ids, not their subjects.
    assert not {i["id"] for i in a_items} & {i["id"] for i in b_items}
    assert not {i["subject"] for i in a_items} & {i["subject"] for i in b_items}


async def test_personal_scope_shows_names_only_with_consent_and_a_withdrawal_sends_a_removal(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    partner = await new_partner(notify_client, migrated, max_scope="personal")
    sibling = await new_partner(notify_client, migrated, max_scope="personal")  # same category
    other = await new_partner(notify_client, migrated, category="ngos", max_scope="personal")
    for p in (partner, sibling, other):
        await subscribe(notify_client, p, scope="personal")
    _, start = await read_all(notify_client, partner)
    _, sibling_start = await read_all(notify_client, sibling)
    _, other_start = await read_all(notify_client, other)

    stranger, agreed, by_category = person(), person(), person()
    for fields in (stranger, agreed, by_category):
        await send(producer, migrated, PersonRegistered(**fields))
    await consent(producer, migrated, agreed["person_id"], "given", agency=partner.code)
    CONSENTED.add((f"agency:{partner.code}", str(agreed["person_id"])))
    await consent(producer, migrated, by_category["person_id"], "given", category="un_agencies")
    CONSENTED.add(("category:un_agencies", str(by_category["person_id"])))

    items, end = await read_all(notify_client, partner, after=start)
    registrations = [i for i in items if i["type"] == PersonRegistered.event_type()]
    assert len(registrations) == 3  # the stranger's, the agreed person's, by_category's
    # No consent for this partner: counts only, even in personal scope.
    assert is_aggregate(registrations[0])
    assert stranger["given_name_en"] not in json.dumps(registrations[0])
    [shared] = tagged(items, agreed)
    assert shared["partnerscope"] == "personal"
    assert shared["data"]["given_name_en"] == agreed["given_name_en"]
    assert shared["data"]["phone"] == agreed["phone"]
    [by_cat] = tagged(items, by_category)
    assert by_cat["partnerscope"] == "personal"
    # The agency consent is for `partner` only; the category one for every UN agency.
    sibling_items, _ = await read_all(notify_client, sibling, after=sibling_start)
    sibling_registrations = [i for i in sibling_items if i["type"] == PersonRegistered.event_type()]
    assert is_aggregate(sibling_registrations[1])
    assert tagged(sibling_items, agreed) == []
    assert tagged(sibling_items, by_category)[0]["partnerscope"] == "personal"
    other_items, other_end = await read_all(notify_client, other, after=other_start)
    assert other_items
    assert all(is_aggregate(i) for i in other_items)

    await consent(producer, migrated, agreed["person_id"], "withdrawn", agency=partner.code)
    after_withdrawal, _ = await read_all(notify_client, partner, after=end)
    [removal] = [i for i in after_withdrawal if i["partnerkind"] == "removal"]
    assert removal["data"]["reason"] == "consent_withdrawn"
    assert removal["data"]["person_id"] == str(agreed["person_id"])
    # What was personal is now read as counts only; no other partner is told of the withdrawal.
    reread, _ = await read_all(notify_client, partner, after=start)
    reread_registrations = [i for i in reread if i["type"] == PersonRegistered.event_type()]
    assert is_aggregate(reread_registrations[1])
    assert tagged(reread, agreed) == []
    assert agreed["given_name_en"] not in json.dumps(reread)
    others, _ = await read_all(notify_client, other, after=other_end)
    assert [i for i in others if i["partnerkind"] == "removal"] == []


async def test_a_consent_that_lapses_on_its_expiry_date_sends_a_removal_as_a_withdrawal_does(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partner = await new_partner(notify_client, migrated, max_scope="personal")
    sibling = await new_partner(notify_client, migrated, max_scope="personal")  # same category
    for p in (partner, sibling):
        await subscribe(notify_client, p, scope="personal")
    _, start = await read_all(notify_client, partner)
    _, sibling_start = await read_all(notify_client, sibling)

    agreed = person()
    await send(producer, migrated, PersonRegistered(**agreed))
    last_day = clock.today()  # in force through today, lapsed from tomorrow
    await consent(
        producer, migrated, agreed["person_id"], "given", agency=partner.code, expires_on=last_day
    )
    CONSENTED.add((f"agency:{partner.code}", str(agreed["person_id"])))
    items, end = await read_all(notify_client, partner, after=start)
    [shared] = tagged(items, agreed)
    assert shared["partnerscope"] == "personal"
    assert shared["data"]["given_name_en"] == agreed["given_name_en"]

    sweep = PeriodicJob("partner-consent-lapses", sweep_lapsed_consents)
    await run_once(sweep, migrated, sessions, today=last_day)
    assert (await read_all(notify_client, partner, after=end))[0] == []  # not lapsed yet

    day_after = last_day + timedelta(days=1)
    assert await run_once(sweep, migrated, sessions, today=day_after) >= 1
    after_lapse, lapse_end = await read_all(notify_client, partner, after=end)
    [removal] = after_lapse
    pseudonym = pseudonyms.pseudonym(
        pseudonyms.partner_key(master_key(migrated), uuid.UUID(partner.id)), agreed["person_id"]
    )
    assert removal["partnerkind"] == "removal"
    assert removal["subject"] == pseudonym
    assert removal["data"] == {
        "reason": "consent_withdrawn",
        "person_pseudonym": pseudonym,
        "person_id": str(agreed["person_id"]),
    }
    # For that partner only, and once: the consent is marked swept.
    sibling_items, _ = await read_all(notify_client, sibling, after=sibling_start)
    assert [i for i in sibling_items if i["partnerkind"] == "removal"] == []
    await run_once(sweep, migrated, sessions, today=day_after)
    assert (await read_all(notify_client, partner, after=lapse_end))[0] == []

    # A renewal replaces the lapsed decision; the sweep waits for the new date.
    await consent(
        producer,
        migrated,
        agreed["person_id"],
        "renewed",
        agency=partner.code,
        expires_on=last_day + timedelta(days=365),
    )
    swept = await fetchval(
        migrated,
        "notify",
        "SELECT lapsed_swept_at FROM partner_sharing_consents WHERE person_id = $1",
        agreed["person_id"],
    )
    assert swept is None
    await run_once(sweep, migrated, sessions, today=day_after)
    renewed, _ = await read_all(notify_client, partner, after=lapse_end)
    assert [i["partnerkind"] for i in renewed] == ["event"]  # the renewal itself


async def test_a_merge_relinks_pseudonyms_and_removes_the_duplicates_personal_data(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    partner = await new_partner(notify_client, migrated, max_scope="personal")
    await subscribe(notify_client, partner, scope="personal")
    _, start = await read_all(notify_client, partner)
    duplicate, survivor = person(), person(f"agency:{partner.code}")
    for fields in (duplicate, survivor):
        await send(producer, migrated, PersonRegistered(**fields))
    await consent(producer, migrated, duplicate["person_id"], "given", agency=partner.code)
    CONSENTED.add((f"agency:{partner.code}", str(duplicate["person_id"])))
    await send(
        producer,
        migrated,
        PersonMerged(
            person_id=duplicate["person_id"],
            survivor_id=survivor["person_id"],
            merged_by="esc-vt-1",
            merged_at=datetime.now(UTC),
        ),
    )
    items, _ = await read_all(notify_client, partner, after=start)
    [merged] = [i for i in items if i["type"] == PersonMerged.event_type()]
    [removal] = [i for i in items if i["partnerkind"] == "removal"]
    assert removal["data"]["reason"] == "merged"
    assert removal["data"]["person_id"] == str(duplicate["person_id"])
    key = pseudonyms.partner_key(master_key(migrated), uuid.UUID(partner.id))
    assert removal["data"]["survivor_pseudonym"] == pseudonyms.pseudonym(key, survivor["person_id"])
    # The duplicate's consent went with it: the merge itself is read as counts only now, and
    # the removal is what relinks the partner's records.
    assert is_aggregate(merged)


# --- Kafka ----------------------------------------------------------------------------------------


@pytest.fixture
async def relay(migrated: Settings) -> AsyncIterator[None]:
    """Notify's outbox relay, as `labourx relay notify` runs it."""

    stop = asyncio.Event()
    task = asyncio.create_task(OutboxRelay(migrated, "notify").run(stop))
    yield
    stop.set()
    await task


async def test_partner_kafka_topics_carry_each_partners_redacted_records_and_removals(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    relay: None,
) -> None:
    partner = await new_partner(notify_client, migrated, max_scope="personal")
    subscription = await subscribe(notify_client, partner, scope="personal", kafka=True)
    topic = subscription["kafka_topic"]
    assert topic == f"partner.{partner.code}.{PEOPLE}"
    assert (
        await run_once(PeriodicJob("partner-topics", ensure_partner_topics), migrated, sessions)
        == 1
    )

    stranger, agreed = person(), person()
    unkeyed = person(f"agency:{partner.code}")  # registered before keys: notify holds none
    # The agreed person's key, as notify keeps it from registry when it opens their events.
    person_key = new_key()
    await fetchval(
        migrated,
        "notify",
        "INSERT INTO person_keys (person_id, key) VALUES ($1, $2)",
        agreed["person_id"],
        person_key,
    )
    await consent(producer, migrated, agreed["person_id"], "given", agency=partner.code)
    CONSENTED.add((f"agency:{partner.code}", str(agreed["person_id"])))
    for fields in (stranger, agreed, unkeyed):
        await send(producer, migrated, PersonRegistered(**fields))
    await send(
        producer,
        migrated,
        PersonErased(
            person_id=stranger["person_id"], erased_by="esc-vt-1", erased_at=datetime.now(UTC)
        ),
    )

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=migrated.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:

        async def all_there() -> bool:
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                for record in batch:
                    assert record.value is not None
                    document = json.loads(record.value)
                    records.append(document)
                    RECEIVED.append((partner.code, "kafka", document))
            return len(records) >= 5  # the consent, three registrations, the removal

        await wait_until(all_there, timeout_s=30, interval_s=0.1)
    finally:
        await consumer.stop()
    # Records of several partitions come in any order: the stranger's is the one not tagged.
    [shared] = tagged(records, agreed)
    [without_key] = tagged(records, unkeyed)
    [not_shared] = [
        r
        for r in records
        if r["type"] == PersonRegistered.event_type() and r is not shared and r is not without_key
    ]
    assert is_aggregate(not_shared)
    assert "phone" not in not_shared["data"]
    # The consenting person's record: personal, its personal fields sealed under the partner's
    # key of them, which the partner gets from its person-keys route.
    assert shared["partnerscope"] == "personal"
    assert shared["partnersealing"] == "1"
    assert shared["sealedfor"] == shared["data"]["person_id"] == str(agreed["person_id"])
    for name in ("family_name_en", "given_name_lo", "phone", "email", "reference"):
        assert name not in shared["data"]
        assert str(agreed[name]) not in json.dumps(shared, ensure_ascii=False)
    assert "date_of_birth" not in shared["data"]
    assert shared["data"]["sex"] == agreed["sex"]
    asked = await notify_client.post(
        "/v1/partners/me/person-keys",
        json={"person_ids": [str(agreed["person_id"]), str(unkeyed["person_id"])]},
        headers=partner.headers,
    )
    assert asked.status_code == 200, asked.text
    assert set(asked.json()["keys"]) == {str(agreed["person_id"])}
    partner_key = base64.urlsafe_b64decode(asked.json()["keys"][str(agreed["person_id"])])
    assert partner_key == partner_person_key(person_key, partner.code)
    opened = open_sealed(partner_key, agreed["person_id"], shared["type"], shared["data"]["sealed"])
    assert opened["family_name_en"] == agreed["family_name_en"]
    assert opened["phone"] == agreed["phone"]
    assert opened["date_of_birth"] == agreed["date_of_birth"].isoformat()
    # No key to seal with: the topic gets the pseudonymised view (the feed, the personal one).
    assert without_key["partnerscope"] == "pseudonymised"
    assert "person_pseudonym" in without_key["data"]
    assert "phone" not in without_key["data"]
    [removal] = [r for r in records if r["partnerkind"] == "removal"]
    key = pseudonyms.partner_key(master_key(migrated), uuid.UUID(partner.id))
    assert removal["data"]["person_pseudonym"] == pseudonyms.pseudonym(key, stranger["person_id"])


async def consume_all(
    settings: Settings, topic: str, code: str, enough: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Every record of a partner topic from its start, until `enough` of them came."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:

        async def arrived() -> bool:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    assert record.value is not None
                    document = json.loads(record.value)
                    records.append(document)
                    RECEIVED.append((code, "kafka", document))
            return enough(records)

        await wait_until(arrived, timeout_s=60, interval_s=0.1)
    finally:
        await consumer.stop()
    return records


async def topics_made(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    await run_once(PeriodicJob("partner-topics", ensure_partner_topics), settings, sessions)


# --- consent decides what a partner gets (issue 14, point 10) -------------------------------------


async def test_without_sharing_consent_a_partner_gets_counts_only_on_every_way_out(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    receiver: Receiver,
    sessions: async_sessionmaker[AsyncSession],
    relay: None,
) -> None:
    """A pseudonym with an age band, sex, office, occupation and permit dates singles a person
    out in a small district: without their consent, a pseudonymised subscription gets the
    aggregate view, by webhook, feed and Kafka alike."""
    partner = await new_partner(notify_client, migrated)
    name = f"counts-{partner.code}"
    subscription = await subscribe(
        notify_client, partner, webhook_url=receiver.url(name), kafka=True
    )
    await topics_made(migrated, sessions)
    stranger, agreed = person(), person(UN)  # agreed at the counter, with the registration
    for fields in (stranger, agreed):
        await send(producer, migrated, PersonRegistered(**fields))

    await webhook_pass(quick(migrated), sessions)
    hooks = webhook_documents(partner.code, receiver.at(name))
    feed, _ = await read_all(notify_client, partner)
    records = await consume_all(
        migrated, subscription["kafka_topic"], partner.code, lambda got: len(got) >= 2
    )
    for way, documents in (("webhook", hooks), ("feed", feed), ("kafka", records)):
        assert len(documents) == 2, way
        [shared] = tagged(documents, agreed)
        assert shared["partnerscope"] == "pseudonymised", way
        assert shared["data"]["person_pseudonym"].startswith("ps_"), way
        [counts] = [d for d in documents if d is not shared]
        assert is_aggregate(counts), (way, counts)
        assert "age_band" in counts["data"]
        assert "sex" in counts["data"]


async def test_a_withdrawal_sends_a_removal_to_a_pseudonymised_partner_too(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    partner = await new_partner(notify_client, migrated)
    await subscribe(notify_client, partner)
    agreed = person(UN)
    await send(producer, migrated, PersonRegistered(**agreed))
    items, end = await read_all(notify_client, partner)
    [shared] = tagged(items, agreed)
    await consent(producer, migrated, agreed["person_id"], "withdrawn", category="un_agencies")
    after, _ = await read_all(notify_client, partner, after=end)
    [removal] = [i for i in after if i["partnerkind"] == "removal"]
    assert removal["data"] == {
        "reason": "consent_withdrawn",
        "person_pseudonym": shared["data"]["person_pseudonym"],
    }
    reread, _ = await read_all(notify_client, partner)
    assert tagged(reread, agreed) == []
    assert is_aggregate(reread[0])


# --- where a subscription starts, on the feed and the topic alike ---------------------------------


async def test_a_subscription_starts_at_its_creation_on_the_feed_and_its_kafka_topic_alike(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    relay: None,
) -> None:
    partner = await new_partner(notify_client, migrated)
    before = person(UN)
    await send(producer, migrated, PersonRegistered(**before))
    subscription = await subscribe(notify_client, partner, kafka=True)
    assert subscription["include_history"] is False
    assert subscription["catching_up"] is False
    assert subscription["created_by"] == f"partner:{partner.code}"
    await topics_made(migrated, sessions)
    after = person(UN)
    await send(producer, migrated, PersonRegistered(**after))

    feed, _ = await read_all(notify_client, partner)
    records = await consume_all(
        migrated, subscription["kafka_topic"], partner.code, lambda got: len(got) >= 1
    )
    assert tagged(feed, before) == []
    assert tagged(records, before) == []
    assert len(tagged(feed, after)) == len(tagged(records, after)) == 1
    assert sorted(json.dumps(d, sort_keys=True) for d in feed) == sorted(
        json.dumps(d, sort_keys=True) for d in records
    )


async def test_history_asked_for_comes_on_the_feed_and_the_kafka_topic_in_order(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    relay: None,
) -> None:
    stream = "matching.agencies"
    agency_id = uuid.uuid4()

    def agency(status: str, previous: str | None) -> AgencyStatusChanged:
        return AgencyStatusChanged(
            agency_id=agency_id,
            agency_code=f"AG-{agency_id.hex[:6]}",
            name="Lao Overseas Manpower",
            licence_number=f"LIC-{agency_id.hex[:6]}",
            licence_expires_on=date(2028, 1, 1),
            destinations=["TH"],
            status=status,
            previous_status=previous,
            effective_on=date(2026, 12, 1),
            changed_by="admin-1",
            changed_at=datetime.now(UTC),
        )

    await send(producer, migrated, agency("active", None))  # before the subscription
    partner = await new_partner(notify_client, migrated)
    subscription = await subscribe(notify_client, partner, stream, kafka=True, include_history=True)
    assert subscription["include_history"] is True
    assert subscription["catching_up"] is True
    await topics_made(migrated, sessions)
    await send(producer, migrated, agency("suspended", "active"))  # while catching up

    history = PeriodicJob("partner-history", send_history)

    async def caught_up() -> bool:
        await run_once(history, migrated, sessions)
        path = f"/v1/partners/me/subscriptions/{subscription['id']}"
        read = await notify_client.get(path, headers=partner.headers)
        return not read.json()["catching_up"]

    await wait_until(caught_up, timeout_s=60, interval_s=0.1)
    await send(producer, migrated, agency("active", "suspended"))  # live again

    feed, _ = await read_all(notify_client, partner, stream)
    ours = [d["data"]["status"] for d in feed if d.get("subject") == str(agency_id)]
    assert ours == ["active", "suspended", "active"]
    records = await consume_all(
        migrated, subscription["kafka_topic"], partner.code, lambda got: len(got) >= len(feed)
    )
    # The same documents on both ways out, and one agency's in the order they happened.
    assert [d["id"] for d in records if d.get("subject") == str(agency_id)] == [
        d["id"] for d in feed if d.get("subject") == str(agency_id)
    ]
    assert sorted(json.dumps(d, sort_keys=True) for d in feed) == sorted(
        json.dumps(d, sort_keys=True) for d in records
    )


# --- one answer for every bad field ---------------------------------------------------------------


async def test_a_subscription_request_names_every_bad_field_at_once(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    partner = await new_partner(notify_client, migrated)  # up to pseudonymised
    answer = await notify_client.post(
        "/v1/partners/me/subscriptions",
        json={"stream": PEOPLE, "scope": "personal", "event_types": ["lao.labourx.nope.v1"]},
        headers=partner.headers,
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in answer.json()["errors"]} == {"scope", "event_types"}


# --- the scan -------------------------------------------------------------------------------------


async def test_no_partner_payload_holds_a_name_phone_email_reference_or_birth_date_outside_scope(
    migrated: Settings,
) -> None:
    """Every webhook body, feed item and Kafka record partners received in this module: only a
    personal-scope item about a person who consented to that partner may name them (people
    other test modules registered, with consents of their own, reach the same streams)."""
    channels = {channel for _, channel, _ in RECEIVED}
    assert channels == {"webhook", "feed", "kafka"}, channels
    assert MADE
    made_here = {str(fields["person_id"]) for fields in MADE}
    checked = 0
    for code, channel, document in RECEIVED:
        about = str(document.get("data", {}).get("person_id", ""))
        if document["partnerscope"] == "personal" and document["partnerkind"] == "event":
            scopes = {f"agency:{code}", f"category:{CATEGORY[code]}"}
            if about in made_here:
                assert {(scope, about) for scope in scopes} & CONSENTED, (code, document["id"])
            else:  # a consent on record then (it may have been withdrawn since)
                assert await fetchval(
                    migrated,
                    "notify",
                    "SELECT count(*) FROM partner_sharing_consents WHERE person_id = $1::uuid"
                    " AND scope_key = ANY($2::text[])",
                    about,
                    sorted(scopes),
                ), (code, channel, document["id"])
            continue
        text = json.dumps(document, ensure_ascii=False)
        for fields in MADE:
            for name in (
                "given_name_lo",
                "family_name_lo",
                "given_name_en",
                "family_name_en",
                "phone",
                "email",
                "reference",
                "date_of_birth",
            ):
                value = fields[name]
                value = value.isoformat() if isinstance(value, date) else str(value)
                assert value not in text, (code, channel, name, document["id"])
            if document["partnerkind"] == "event":
                assert str(fields["person_id"]) not in text, (code, channel, document["id"])
        checked += 1
    assert checked > 20
