"""Brute force meets a limit shared by every replica: the public certificate check per client
address, wrong partner API keys per address and per key prefix. Each refusal is a 429
problem+json with Retry-After, counted in labourx_rate_limited_total, and changes nothing in
the database but the counters (every other table's rows are fingerprinted before and after).

Then the storage itself (shared/ratelimit.py) against PostgreSQL, with a clock the test moves.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from labourx.catalog import SERVICES, load
from services.notify.partners.api_keys import API_KEY_PREFIX
from services.predeparture.completions.certificates import VERIFY_PATH
from shared.app import create_app
from shared.db import asyncpg_dsn, create_engine, drop_database
from shared.provision import prepare_databases
from shared.ratelimit import PostgresStorage
from tests.support import bearer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from fastapi import FastAPI

    from shared.settings import Settings

# Small limits, per hour so that a slow machine never sees a window end mid-test.
LIMITS = {
    "rate_limit_certificate_verify": "4/hour",
    "rate_limit_api_key_address": "3/hour",
    "rate_limit_api_key_prefix": "5/hour",
    "rate_limit_console_sign_in": "3/hour",
}
# The console as officers' browsers open it (https: its cookies are Secure).
CONSOLE_URL = "https://console.test"
# A code of the right shape that no certificate has (the alphabet has no 0, 1, I, L, O, U, V).
UNKNOWN_CODE = "2345-6789-AB"
_hosts = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test used (TEST-NET-3 and the documentation IPv6 range)."""
    n = next(_hosts)
    return f"203.0.113.{n}" if n < 255 else f"2001:db8:{n:x}::1"


@pytest.fixture(scope="module")
def limited(migrated: Settings) -> Settings:
    return migrated.model_copy(update=LIMITS)


@asynccontextmanager
async def replicas(service: str, settings: Settings) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two instances of a service's API, each with its own pool, on the same database: what
    two replicas behind a load balancer are."""
    spec = load("console") if service == "console" else SERVICES[service]
    first, second = (create_app(spec, settings) for _ in range(2))
    async with AsyncExitStack() as stack:
        for app in (first, second):
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield first, second


def client(app: FastAPI, address: str, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """A client whose connection comes from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


def refusals(service: str, limit: str) -> float:
    value = REGISTRY.get_sample_value(
        "labourx_rate_limited_total", {"service": service, "limit": limit}
    )
    return value or 0.0


async def rows(settings: Settings, service: str) -> dict[str, tuple[int, int]]:
    """Every table but the counters: its row count and an order-free digest of its rows."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url(service)))
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'rate_limits' ORDER BY tablename"
            )
        ]
        found = {}
        for table in tables:  # names from pg_tables
            row = await conn.fetchrow(
                f'SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM "{table}" t'  # noqa: S608
            )
            assert row is not None
            found[table] = (int(row[0]), int(row[1]))
        return found
    finally:
        await conn.close()


def assert_refused(answer: httpx.Response, limit: str) -> int:
    """A 429 problem naming the limit, with Retry-After; the seconds it says."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith("/rate-limited"), body
    assert body["limit"] == limit, body
    wait = int(answer.headers["Retry-After"])
    assert 1 <= wait <= 3600
    assert body["retry_after"] == wait
    return wait


async def test_certificate_checks_are_limited_per_client_across_replicas(
    limited: Settings,
) -> None:
    guesser, bystander = fresh_address(), fresh_address()
    path = f"{VERIFY_PATH}{UNKNOWN_CODE}"
    before, counted = (
        await rows(limited, "predeparture"),
        refusals("predeparture", "certificate_verify"),
    )
    async with replicas("predeparture", limited) as (one, two):
        async with client(one, guesser) as a, client(two, guesser) as b:
            # Four guesses, alternating replicas: each replica alone saw two.
            for replica in (a, b, a, b):
                assert (await replica.get(path)).status_code == 404
            assert_refused(await a.get(path), "certificate_verify")
            assert_refused(await b.get(path), "certificate_verify")
        async with client(one, bystander) as c:
            assert (await c.get(path)).status_code == 404, "another address has its own limit"
    assert refusals("predeparture", "certificate_verify") == counted + 2
    assert await rows(limited, "predeparture") == before, "a refusal changed something"


async def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(
    limited: Settings,
) -> None:
    proxy, client_a, client_b = fresh_address(), fresh_address(), fresh_address()
    path = f"{VERIFY_PATH}{UNKNOWN_CODE}"
    behind_proxy = limited.model_copy(update={"trusted_proxies": [proxy]})
    async with replicas("predeparture", behind_proxy) as (one, _):
        async with client(one, proxy) as through:
            for _ in range(4):
                # What the client wrote itself comes first; the proxy appends who it saw.
                spoofed = {"X-Forwarded-For": f"{fresh_address()}, {client_a}"}
                assert (await through.get(path, headers=spoofed)).status_code == 404
            refused = await through.get(path, headers={"X-Forwarded-For": client_a})
            assert_refused(refused, "certificate_verify")
            other = await through.get(path, headers={"X-Forwarded-For": client_b})
            assert other.status_code == 404, "each client behind the proxy has its own limit"
        # From an address that is not a trusted proxy, the header is not believed.
        untrusted = fresh_address()
        async with client(one, untrusted) as direct:
            for _ in range(4):
                forged = {"X-Forwarded-For": fresh_address()}
                assert (await direct.get(path, headers=forged)).status_code == 404
            assert_refused(
                await direct.get(path, headers={"X-Forwarded-For": fresh_address()}),
                "certificate_verify",
            )


def wrong_key(prefix: str | None = None) -> dict[str, str]:
    body = secrets.token_urlsafe(32)
    key = (prefix or API_KEY_PREFIX + body[:8]) + body[8:]
    return {"X-API-Key": key}


async def test_wrong_api_keys_are_limited_per_address_across_replicas(limited: Settings) -> None:
    guesser = fresh_address()
    before, counted = await rows(limited, "notify"), refusals("notify", "api_key_address")
    async with (
        replicas("notify", limited) as (one, two),
        client(one, guesser) as a,
        client(two, guesser) as b,
    ):
        for replica in (a, b, a):  # three wrong keys, each of another prefix
            assert (await replica.get("/v1/partners/me", headers=wrong_key())).status_code == 401
        assert_refused(await b.get("/v1/partners/me", headers=wrong_key()), "api_key_address")
        # Missing keys are no guesses: still the 401 that says a key is needed.
        assert (await a.get("/v1/partners/me")).status_code == 401
    assert refusals("notify", "api_key_address") == counted + 1
    assert await rows(limited, "notify") == before, "a refusal changed something"


async def test_wrong_api_keys_aimed_at_one_key_prefix_are_limited_from_any_address(
    limited: Settings,
) -> None:
    prefix = API_KEY_PREFIX + secrets.token_urlsafe(6)[:8]
    before, counted = await rows(limited, "notify"), refusals("notify", "api_key_prefix")
    async with replicas("notify", limited) as (one, two):
        for replica in (one, two, one, two, one):  # five addresses, one try each
            async with client(replica, fresh_address()) as guesser:
                answer = await guesser.get("/v1/partners/me", headers=wrong_key(prefix))
                assert answer.status_code == 401
        async with client(two, fresh_address()) as sixth:
            refused = await sixth.get("/v1/partners/me", headers=wrong_key(prefix))
            assert_refused(refused, "api_key_prefix")
    assert refusals("notify", "api_key_prefix") == counted + 1
    assert await rows(limited, "notify") == before, "a refusal changed something"


async def test_a_partner_using_its_right_key_is_never_limited(limited: Settings) -> None:
    async with replicas("notify", limited) as (one, two):
        async with client(one, fresh_address()) as admin_client:
            code = f"P{uuid.uuid4().hex[:8].upper()}"
            made = await admin_client.post(
                "/v1/partners",
                json={"code": code, "name": f"Partner {code}", "category": "ngos"},
                headers=bearer(limited, "admin-1", ["admin"]),
            )
            assert made.status_code == 201, made.text
        key = {"X-API-Key": made.json()["key"]["api_key"]}
        address = fresh_address()
        async with client(one, address) as a, client(two, address) as b:
            for replica in (a, b) * 5:  # ten successes, over every limit's amount
                assert (await replica.get("/v1/partners/me", headers=key)).status_code == 200


@pytest.fixture(scope="module")
async def console_signing_in(limited: Settings) -> AsyncIterator[Settings]:
    """A production-like console (OpenID Connect sign-in, no development picker) with its own
    database (another prefix: the session's console database belongs to tests/console, which
    may still be using it). The provider is never reached: a forged callback is refused first."""
    settings = limited.model_copy(
        update={
            "database_prefix": f"{limited.database_prefix}rl_",
            "console_dev_sign_in": False,
            "console_oidc_issuer": "https://id.example.test/realms/labourx",
            "console_oidc_client_id": "labourx-console",
            "console_oidc_client_secret": SecretStr("a-client-secret-for-the-test-only"),
            "console_public_url": CONSOLE_URL,
        }
    )
    await prepare_databases(settings, [load("console")])
    yield settings
    await drop_database(settings, "console")


async def test_failed_console_sign_ins_are_limited_per_client_across_replicas(
    console_signing_in: Settings,
) -> None:
    settings, address = console_signing_in, fresh_address()
    callback = "/sign-in/oidc/callback?code=forged&state=forged"
    before, counted = await rows(settings, "console"), refusals("console", "console_sign_in")
    async with (
        replicas("console", settings) as (one, two),
        client(one, address, CONSOLE_URL) as a,
        client(two, address, CONSOLE_URL) as b,
    ):
        for replica in (a, b, a):  # a callback no sign-in was started for
            assert (await replica.get(callback)).status_code == 400
        refused = await b.get(callback)
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert "ພະຍາຍາມເຂົ້າສູ່ລະບົບບໍ່ສຳເລັດຫຼາຍເທື່ອເກີນໄປ" in refused.text  # Lao first
    assert refusals("console", "console_sign_in") == counted + 1
    assert await rows(settings, "console") == before, "a refusal changed something"


# --- the storage ------------------------------------------------------------------------------


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storages(migrated: Settings) -> AsyncIterator[Callable[[Clock], PostgresStorage]]:
    """Storages on predeparture's database, each with its own pool (two replicas)."""
    engines = []

    def storage(clock: Clock) -> PostgresStorage:
        engine = create_engine(migrated, "predeparture")
        engines.append(engine)
        return PostgresStorage(engine, clock=clock)

    yield storage
    for engine in engines:
        await engine.dispose()


def unique_key() -> str:
    return f"test/{uuid.uuid4()}"


async def test_a_fixed_window_counts_until_it_expires(
    storages: Callable[[Clock], PostgresStorage],
) -> None:
    clock = Clock(1_900_000_000.0)
    first, second = storages(clock), storages(clock)
    key = unique_key()
    assert await first.incr(key, 60) == 1
    assert await second.incr(key, 60, amount=2) == 3
    assert await first.get(key) == 3
    assert await second.get_expiry(key) == clock.now + 60
    clock.now += 59
    assert await first.incr(key, 60) == 4
    clock.now += 1  # the window is over: the next increment starts a new one
    assert await first.get(key) == 0
    assert await second.incr(key, 60) == 1
    assert await first.get_expiry(key) == clock.now + 60
    await first.clear(key)
    assert await second.get(key) == 0
    assert await first.check()


async def test_a_sliding_window_weighs_the_previous_window_by_its_overlap(
    storages: Callable[[Clock], PostgresStorage],
) -> None:
    clock = Clock(1_900_000_040.0)  # 20 s into a 60 s window (it began at 1_900_000_020)
    storage = storages(clock)
    key = unique_key()
    assert [await storage.acquire_sliding_window_entry(key, 4, 60) for _ in range(5)] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert await storage.get_sliding_window(key, 60) == (0, 0.0, 4, 100.0)
    clock.now += 60  # 20 s into the next window: 4 x 40/60 of the last one still counts
    previous, previous_ttl, current, _ = await storage.get_sliding_window(key, 60)
    assert (previous, previous_ttl, current) == (4, 40.0, 0)
    assert await storage.acquire_sliding_window_entry(key, 4, 60)  # 2.67 + 1
    assert not await storage.acquire_sliding_window_entry(key, 4, 60)  # 2.67 + 2 > 4
    clock.now += 30  # 50 s in: 4 x 10/60 + 1
    assert await storage.acquire_sliding_window_entry(key, 4, 60)
    await storage.clear_sliding_window(key, 60)
    assert await storage.get_sliding_window(key, 60) == (0, 0.0, 0, 70.0)


async def test_replicas_acquiring_at_once_never_pass_the_limit_together(
    storages: Callable[[Clock], PostgresStorage],
) -> None:
    clock = Clock(1_900_000_010.0)
    replicas_ = [storages(clock) for _ in range(2)]
    key = unique_key()
    granted = await asyncio.gather(
        *(replicas_[i % 2].acquire_sliding_window_entry(key, 5, 60) for i in range(20))
    )
    assert sum(granted) <= 5
    # And nothing was lost: the counter holds exactly what was granted.
    assert (await replicas_[0].get_sliding_window(key, 60))[2] == sum(granted)


async def test_expired_counters_are_purged(
    storages: Callable[[Clock], PostgresStorage], migrated: Settings
) -> None:
    clock = Clock(1_900_000_000.0)
    storage = storages(clock)
    old = unique_key()
    await storage.incr(old, 10)
    clock.now += 3600  # long expired; the next increment purges it
    await storage.incr(unique_key(), 10)
    conn = await asyncpg.connect(asyncpg_dsn(migrated.service_database_url("predeparture")))
    try:
        assert await conn.fetchval("SELECT count(*) FROM rate_limits WHERE key = $1", old) == 0
    finally:
        await conn.close()
