"""What the backbone tables no longer need is deleted by the relay's pass: sent outbox rows
after 7 days, `Idempotency-Key` answers (which may hold a person's record) after their
retention. Nothing younger, and nothing unsent, is touched."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from shared.outbox.relay import OutboxRelay
from tests.support import fetch, fetchval, wait_until

if TYPE_CHECKING:
    from shared.settings import Settings

SERVICE = "predeparture"


async def _answer(settings: Settings, key: str, age_days: float) -> None:
    await fetchval(
        settings,
        SERVICE,
        "INSERT INTO idempotency_keys (principal, key, request_hash, status_code, body, created_at)"
        " VALUES ('housekeeping-test', $1, 'h', 201, $2::jsonb,"
        " now() - make_interval(secs => $3))",
        key,
        json.dumps({"given_name_en": "Somchai"}),
        age_days * 86400,
    )


async def test_the_relay_deletes_answers_past_their_retention_and_keeps_the_rest(
    migrated: Settings,
) -> None:
    settings = migrated.model_copy(update={"idempotency_key_retention_days": 3})
    await _answer(settings, "old", 3.5)
    await _answer(settings, "young", 2.5)

    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(settings, SERVICE).run(stop))
    try:

        async def old_gone() -> bool:
            assert not relay.done(), relay.exception()
            kept = await fetchval(
                settings,
                SERVICE,
                "SELECT count(*) FROM idempotency_keys WHERE principal = 'housekeeping-test'"
                " AND key = 'old'",
            )
            return kept == 0

        await wait_until(old_gone)
    finally:
        stop.set()
        await relay
    left = await fetch(
        settings,
        SERVICE,
        "SELECT key FROM idempotency_keys WHERE principal = 'housekeeping-test'",
    )
    assert [r["key"] for r in left] == ["young"]
