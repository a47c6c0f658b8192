"""`labourx erasures reapply`: the erasure ledger re-applied to each service's database, by the
service's own reaction (shared/erasures.py), before the services accept traffic again."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from labourx.catalog import load
from shared.db import create_engine
from shared.erasures import Target, entries_of, from_handler, read_ledger, reapply
from shared.events.registry import ErasureRecorded, PersonErased

if TYPE_CHECKING:
    import collections
    from collections.abc import Iterable

    from shared.settings import Settings


def targets(services: Iterable[str]) -> list[Target]:
    """The databases of `services` and how each re-applies an entry: registry by its own
    erasure of its tables, every other service by each of its consumer groups' PersonErased
    handler (the code its consumer runs)."""
    from services.registry.erasures.reapply import reapply as registry_reapply

    found = []
    for name in services:
        if name == "registry":
            found.append(Target("registry", "registry", registry_reapply))
            continue
        for consumer in load(name).consumers:
            handler = consumer.handlers.get(PersonErased.event_type())
            if handler is not None:
                found.append(Target(name, consumer.group, from_handler(handler)))
    return found


# registry's own copy of the ledger (services/registry/erasures/models.py), for a broker lost.
_TABLE = text("SELECT person_id, erased_at, basis, survivor_id, cause_event_id FROM erasure_ledger")


async def ledger_in_registry(settings: Settings) -> list[ErasureRecorded]:
    """The ledger as registry's database holds it (complete up to that database's time)."""
    engine = create_engine(settings, "registry")
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(_TABLE)).mappings().all()
    finally:
        await engine.dispose()
    return entries_of([ErasureRecorded.model_validate(dict(row)) for row in rows])


@dataclass(frozen=True)
class Reapplied:
    entries: int
    seconds: float
    # (service, consumer) → outcome → count
    outcomes: dict[tuple[str, str], collections.Counter[str]]

    def lines(self) -> list[str]:
        said = [f"ledger: {self.entries} erased id(s), re-applied in {self.seconds:.1f} s"]
        for (service, consumer), counts in self.outcomes.items():
            told = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            said.append(f"{service} ({consumer}): {told or 'nothing to do'}")
        return said


async def reapply_ledger(
    settings: Settings, services: Iterable[str], *, from_registry: bool = False
) -> Reapplied:
    """Read the ledger (the topic, or registry's table) and apply it to each service's
    database, the databases at once (each is on its own)."""
    started = time.monotonic()
    entries = await (ledger_in_registry(settings) if from_registry else read_ledger(settings))
    ordered = targets(sorted(set(services), key=lambda name: (name != "registry", name)))
    done = await asyncio.gather(*(reapply(settings, target, entries) for target in ordered))
    outcomes = {(t.service, t.consumer): counts for t, counts in zip(ordered, done, strict=True)}
    return Reapplied(len(entries), time.monotonic() - started, outcomes)
