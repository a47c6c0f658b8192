"""A retry with the same `Idempotency-Key` gets the first answer as it was sent: its status and
its JSON text, every field in the same order with the same value (shared/idempotency.py keeps
the text, not a document that PostgreSQL would give back with its keys reordered).

Every route that takes the key is retried by its owner with the body the world sent
(conftest.py `world.writes`); the world never writes the routes of `NOT_WRITTEN`
(test_idempotent_replays.py says why).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.abuse.conftest import World, Write


def _ordered(value: Any) -> Any:
    """The JSON value with each object as its list of (key, value) pairs, in order."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


async def test_a_retry_by_the_same_caller_gets_the_first_answer_as_sent(world: World) -> None:
    first: dict[tuple[str, str, str], Write] = {}
    for write in world.writes:
        if write.key is not None:
            first.setdefault((write.service, write.method, write.route), write)
    problems = []
    for route, write in first.items():
        headers = {**world.owners[write.owner], "Idempotency-Key": str(write.key)}
        client = world.clients[write.service]
        if write.content_type is not None:
            headers["Content-Type"] = write.content_type
            retry = await client.request(
                write.method, write.path, content=write.body, headers=headers
            )
        else:
            retry = await client.request(write.method, write.path, json=write.body, headers=headers)
        said = " ".join(route)
        if retry.headers.get("Idempotent-Replayed") != "true":
            problems.append(f"{said}: not replayed ({retry.status_code}): {retry.text[:200]}")
            continue
        if retry.status_code != write.status:
            problems.append(f"{said}: {retry.status_code}, first {write.status}")
        if retry.headers["content-type"] != "application/json":
            problems.append(f"{said}: replayed as {retry.headers['content-type']}")
        replayed = json.loads(retry.content, object_pairs_hook=list)
        if replayed != _ordered(write.answer):
            problems.append(f"{said}: replayed {retry.text[:300]}\n  first {write.answer}")
    print(f"\nreplays by the same caller: {len(first)} routes")
    assert not problems, "\n".join(problems)
    assert len(first) >= 35
