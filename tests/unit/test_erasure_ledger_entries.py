"""The erasure ledger as `labourx erasures reapply` reads it: each erased id once, oldest first,
and each entry given to a consumer's handler as the PersonErased it records."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.erasures import LEDGER_ACCOUNT, entries_of, from_handler
from shared.events.registry import ErasureRecorded, PersonErased
from shared.work import Work

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _entry(person_id: uuid.UUID, minutes: int = 0) -> ErasureRecorded:
    return ErasureRecorded(
        person_id=person_id,
        erased_at=AT + timedelta(minutes=minutes),
        basis="request",
        cause_event_id=uuid.uuid4(),
    )


def test_an_entry_published_twice_counts_once_and_the_oldest_erasure_comes_first() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    again = _entry(second, 5)

    entries = entries_of([again, _entry(first, 1), again])

    assert [e.person_id for e in entries] == [first, second]


async def test_a_consumer_s_handler_is_given_the_person_erased_the_entry_records() -> None:
    entry = _entry(uuid.uuid4())
    given: dict[str, Any] = {}

    async def handler(work: Work, event: CloudEvent, payload: Event) -> None:
        given.update(event=event, payload=payload)

    work = Work(None, None, None, date(2026, 12, 1), None)  # type: ignore[arg-type]
    assert await from_handler(handler)(work, entry) == "applied"

    assert given["payload"] == PersonErased(
        person_id=entry.person_id, erased_by=LEDGER_ACCOUNT, erased_at=entry.erased_at
    )
    event: CloudEvent = given["event"]
    assert (event.id, event.type, event.time) == (
        entry.cause_event_id,
        PersonErased.event_type(),
        entry.erased_at,
    )
    assert event.subject == str(entry.person_id)
