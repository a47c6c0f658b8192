"""Rate limits shared by every replica of a service: the `limits` library's strategies over a
storage kept in the service's own PostgreSQL database (table `rate_limits`, made by
`shared.migrations.create_rate_limit_table`).

A limit is named (`certificate_verify`, `api_key_address`, ...) and configured by the setting
`rate_limit_<name>` ("30/minute;300/hour"). It is counted per identifier: the client's address
(`client_address`, which believes X-Forwarded-For only from LABOURX_TRUSTED_PROXIES) or
whatever else a caller passes, such as an API key's prefix. A client past a limit gets 429
problem+json with `Retry-After`, counted in `labourx_rate_limited_total{service, limit}`.

Counters are written on connections of their own, committed at once: a request refused or
failing afterwards (a 404, a 401) still counts, and nothing else of the request is written.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.storage.base import SlidingWindowCounterSupport
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.problems import Problem, Unauthorized
from shared.settings import Settings

RATE_LIMITED = Counter(
    "labourx_rate_limited_total", "Requests refused by a rate limit", ["service", "limit"]
)

# Expired counters are deleted by the storage that meets them, at most this often per process.
_PURGE_EVERY_S = 60.0


class RateLimited(Problem):
    """429: a limit is spent; `Retry-After` says in how many seconds to try again."""

    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(
            f"too many requests of this kind from you: try again in {retry_after} s",
            limit=limit,
            retry_after=retry_after,
        )
        self.headers = {"Retry-After": str(retry_after)}


# --- the storage -------------------------------------------------------------------------------

# One row per counter; `expires_at` in seconds since the epoch (the library's own unit).
_ADD = text(
    """
    INSERT INTO rate_limits AS r (key, count, expires_at) VALUES (:key, :amount, :expires_at)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN r.expires_at <= :now THEN excluded.count
                     ELSE r.count + excluded.count END,
        expires_at = CASE WHEN r.expires_at <= :now THEN excluded.expires_at
                          ELSE r.expires_at END
    RETURNING count
    """
)
_COUNT = text("SELECT count, expires_at FROM rate_limits WHERE key = :key AND expires_at > :now")
_COUNT_ONLY = text("SELECT count FROM rate_limits WHERE key = :key AND expires_at > :now")
_TWO = text(
    "SELECT key, count FROM rate_limits WHERE key IN (:previous, :current) AND expires_at > :now"
)
_TAKE_BACK = text("UPDATE rate_limits SET count = count - :amount WHERE key = :key")
_CLEAR = text("DELETE FROM rate_limits WHERE key = ANY(:keys)")
_PURGE = text("DELETE FROM rate_limits WHERE expires_at <= :now")


class PostgresStorage(Storage, SlidingWindowCounterSupport):
    """The `limits` library's async storage in a PostgreSQL table: fixed windows (`incr`) and
    sliding window counters (two fixed windows weighted), each counter one upserted row, so
    every replica of a service counts in the same place. `clock` is seconds since the epoch,
    as the library's strategies read it."""

    STORAGE_SCHEME = ["labourx+postgresql"]

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self._purged_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return DBAPIError

    async def _purge(self, now: float) -> None:
        if now - self._purged_at >= _PURGE_EVERY_S:
            self._purged_at = now
            async with self.engine.begin() as conn:
                await conn.execute(_PURGE, {"now": now})

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock()
        await self._purge(now)
        async with self.engine.begin() as conn:
            found = await conn.execute(
                _ADD, {"key": key, "amount": amount, "expires_at": now + expiry, "now": now}
            )
            return int(found.scalar_one())

    async def get(self, key: str) -> int:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_COUNT, {"key": key, "now": self.clock()})).first()
        return int(row[0]) if row else 0

    async def get_expiry(self, key: str) -> float:
        now = self.clock()
        async with self.engine.connect() as conn:
            row = (await conn.execute(_COUNT, {"key": key, "now": now})).first()
        return float(row[1]) if row else now

    async def check(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1 FROM rate_limits LIMIT 1"))
        except DBAPIError:
            return False
        return True

    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            return (await conn.execute(text("DELETE FROM rate_limits"))).rowcount

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_CLEAR, {"keys": [key]})

    # Sliding window counter: the current fixed window's count plus the previous one's,
    # weighted by how much of it still overlaps the sliding window (as the library's own
    # memory and Redis storages do it).

    @staticmethod
    def _windows(key: str, expiry: int, now: float) -> tuple[str, str, float]:
        current = int(now // expiry)
        return f"{key}/{current - 1}", f"{key}/{current}", current * expiry

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = self.clock()
        await self._purge(now)
        previous_key, current_key, started = self._windows(key, expiry, now)
        async with self.engine.begin() as conn:
            # The current window's counter lives through the next window, where it is the
            # previous one. Added first, then judged: two replicas adding at once both see
            # both additions, so neither lets a request past the limit.
            current = int(
                (
                    await conn.execute(
                        _ADD,
                        {
                            "key": current_key,
                            "amount": amount,
                            "expires_at": started + 2 * expiry,
                            "now": now,
                        },
                    )
                ).scalar_one()
            )
            previous = await conn.scalar(_COUNT_ONLY, {"key": previous_key, "now": now}) or 0
            if previous * self._overlap(expiry, now, started) / expiry + current > limit:
                await conn.execute(_TAKE_BACK, {"key": current_key, "amount": amount})
                return False
        return True

    @staticmethod
    def _overlap(expiry: int, now: float, started: float) -> float:
        """How much of the previous window the sliding window still covers, in seconds."""
        return expiry - (now - started)

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = self.clock()
        previous_key, current_key, started = self._windows(key, expiry, now)
        async with self.engine.connect() as conn:
            found = await conn.execute(
                _TWO, {"previous": previous_key, "current": current_key, "now": now}
            )
            rows = {str(key): int(count) for key, count in found}
        previous, current = int(rows.get(previous_key, 0)), int(rows.get(current_key, 0))
        previous_ttl = self._overlap(expiry, now, started) if previous else 0.0
        current_ttl = started + 2 * expiry - now
        return previous, previous_ttl, current, current_ttl

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key, _ = self._windows(key, expiry, self.clock())
        async with self.engine.begin() as conn:
            await conn.execute(_CLEAR, {"keys": [previous_key, current_key]})


# --- limits by name ----------------------------------------------------------------------------


@cache
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


class Limiter:
    """The named limits of one service, over one storage."""

    def __init__(
        self,
        storage: PostgresStorage,
        settings: Settings,
        service: str,
    ) -> None:
        self.storage = storage
        self.strategy: RateLimiter = (
            SlidingWindowCounterRateLimiter(storage)
            if settings.rate_limit_strategy == "sliding-window-counter"
            else FixedWindowRateLimiter(storage)
        )
        self.settings = settings
        self.service = service

    def items(self, name: str) -> tuple[RateLimitItem, ...]:
        return _items(getattr(self.settings, f"rate_limit_{name}"))

    async def hit(self, name: str, identifier: str) -> None:
        """Count one request against every limit of `name`; 429 when one is spent."""
        for item in self.items(name):
            if not await self.strategy.hit(item, name, identifier):
                raise await self._refusal(name, identifier, item)

    async def check(self, name: str, identifier: str) -> None:
        """429 when a limit of `name` is spent already; counts nothing."""
        for item in self.items(name):
            if not await self.strategy.test(item, name, identifier):
                raise await self._refusal(name, identifier, item)

    async def count(self, name: str, identifier: str) -> None:
        """Count one (failed) attempt against every limit of `name`, refusing nothing yet."""
        for item in self.items(name):
            await self.strategy.hit(item, name, identifier)

    async def _refusal(self, name: str, identifier: str, item: RateLimitItem) -> RateLimited:
        stats = await self.strategy.get_window_stats(item, name, identifier)
        RATE_LIMITED.labels(self.service, name).inc()
        wait = max(1, math.ceil(stats.reset_time - self.storage.clock()))
        return RateLimited(name, min(wait, item.get_expiry()))


def limiter_of(request: Request) -> Limiter:
    """The app's limiter, made on first use over the app's database engine."""
    state = request.app.state
    limiter: Limiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = Limiter(PostgresStorage(state.engine), state.settings, state.service)
        state.rate_limiter = limiter
    return limiter


# --- who is asking -----------------------------------------------------------------------------

Network = IPv4Network | IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in entries)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _identity(address: str) -> str:
    """What a limit counts for an address: IPv6 by its /64, which one subscriber gets whole
    (counting each of its 2^64 addresses apart would limit nothing)."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if parsed.version == 6:
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def client_address(request: Request) -> str:
    """The client's address: the connection's, or behind trusted proxies the last address of
    X-Forwarded-For that is not one of them (each proxy appends the address it was reached
    from, so everything left of the last untrusted one may be forged)."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else ""
    trusted = _networks(tuple(settings.trusted_proxies))
    if not trusted or not _within(peer, trusted):
        return _identity(peer)
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return _identity(hop)
    return _identity(hops[0] if hops else peer)


# --- as FastAPI uses them ----------------------------------------------------------------------


def per_client(name: str) -> Any:
    """A route dependency: every request counts against limit `name` by client address."""

    async def limited(request: Request) -> None:
        await limiter_of(request).hit(name, client_address(request))

    return Depends(limited)


@asynccontextmanager
async def failures_counted(
    request: Request,
    identifiers: Mapping[str, str],
    failure: type[BaseException] = Unauthorized,
) -> AsyncIterator[None]:
    """Around an authentication: 429 at once when a limit (name -> identifier) is spent, and a
    `failure` raised inside counts against each. Successes count nothing, so a partner polling
    its feed all day is never limited; only guessing is."""
    limiter = limiter_of(request)
    for name, identifier in identifiers.items():
        await limiter.check(name, identifier)
    try:
        yield
    except failure:
        for name, identifier in identifiers.items():
            await limiter.count(name, identifier)
        raise
