"""`labourx seed` rides out a service that says "try again": it waits what Retry-After asks
and sends the same request again (same Idempotency-Key), for as long as RETRY_FOR_S, instead of
stopping after a few quick tries (a database restart takes longer than those)."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.seed import Seeder
from shared.seed_plan import Plan
from shared.settings import Settings

if TYPE_CHECKING:
    from starlette.requests import Request


def _flaky(unavailable: int) -> tuple[Starlette, list[tuple[float, str | None]]]:
    """An API that answers 503 with Retry-After: 1 to its first `unavailable` requests."""
    seen: list[tuple[float, str | None]] = []

    async def people(request: Request) -> JSONResponse:
        seen.append((time.monotonic(), request.headers.get("Idempotency-Key")))
        if len(seen) <= unavailable:
            return JSONResponse(
                {"type": "https://labourx.la/problems/service-unavailable", "status": 503},
                status_code=503,
                headers={"Retry-After": "1"},
                media_type="application/problem+json",
            )
        return JSONResponse({"id": "made"}, status_code=201)

    return Starlette(routes=[Route("/v1/people", people, methods=["POST"])]), seen


async def test_a_503_is_retried_after_what_retry_after_asks_with_the_same_key() -> None:
    app, seen = _flaky(unavailable=3)
    plan = Plan(1, 0, 0, 0, 1, "http://registry", "http://matching", 1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        seeder = Seeder(Settings(env="test"), plan, client, lambda _: None)
        answer = await seeder.post("http://registry/v1/people", {}, {}, key="k-1")
    assert answer.ok
    assert answer.status == 201
    assert [key for _, key in seen] == ["k-1"] * 4
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(seen)]
    assert all(gap >= 0.95 for gap in gaps), gaps  # waited the second each answer asked for
