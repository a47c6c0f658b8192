"""Registry's side of `labourx erasures reapply`: an erasure of the ledger applied again to a
registry database restored from a backup taken before it, as the erasure itself did it
(`people.lifecycle.purge`), without announcing it again (the ledger and the PersonErased
events are on the broker already; each other service re-applies the entry itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.erasures import ledger
from services.registry.people.lifecycle import purge
from services.registry.people.models import Person
from shared.auth import Principal

if TYPE_CHECKING:
    from shared.events.registry import ErasureRecorded
    from shared.work import Work

# Who re-applies, in the audit trail: no staff member, no role, every province.
LEDGER = Principal(subject="labourx:erasure-ledger", roles=frozenset(), national=True)
REASON = "re-applied from the erasure ledger after a restore"


async def reapply(work: Work, entry: ErasureRecorded) -> str:
    """Erase the entry's record again if the database still holds its data: "erased",
    "unknown" (the backup predates the record), or "already" (erased before the backup)."""
    session = work.session
    person = await session.get(Person, entry.person_id, with_for_update=True)
    await ledger.keep(session, entry)
    if person is None:
        return "unknown"
    if person.record_status == "erased" or await _erased_with_survivor(work, person, entry):
        return "already"
    await purge(session, person)
    # A record merged away stays the redirect it was (the erasure left it so); the rest is
    # retired as the erasure retired it, at the ledger's time.
    if person.record_status != "merged":
        person.record_status = "erased"
        person.erased_at = entry.erased_at
    await session.flush()
    await audit.record(session, LEDGER, Action.ERASED, [person.id], reason=REASON)
    return "erased"


async def _erased_with_survivor(work: Work, person: Person, entry: ErasureRecorded) -> bool:
    """A merged-away record whose survivor's erasure (the one that reached it) is already in
    this database: purged then."""
    if person.record_status != "merged" or entry.survivor_id is None:
        return False
    survivor = await work.session.get(Person, entry.survivor_id)
    return survivor is not None and survivor.record_status == "erased"
