"""The skeleton every service's read model of registry's people shares.

A read model keeps one row per person (`person_id`), with registry's record version, whether
the record is active or merged away (`record_status`, `merged_into`). What each read model
keeps, and what it moves to a survivor, is its own; this module does the rest once: lock a
person's row, follow merges to the record that holds the person now, apply a registration or
update at most once per version, retire a duplicate, find and delete an erased person's rows,
and count the events that changed nothing; and the handlers that map registry's person events
onto these. Each feature's reaction to a merge or an erasure on its own tables (`person_reactions`)
moves the duplicate's rows and blanks an erased person's free text with `move_person_rows` and
`blank_person_rows`.

Every function runs in the caller's transaction (a consumer's, with its inbox row).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prometheus_client import Counter
from sqlalchemy import ColumnElement, Table, bindparam, delete, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.consumer import Handler, expect
from shared.consumer.direct import Direct
from shared.events.registry import (
    PersonDetails,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)

if TYPE_CHECKING:
    import logging
    import uuid
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import InstrumentedAttribute

    from shared.events import CloudEvent, Event
    from shared.work import Work

MAX_MERGE_HOPS = 5  # merges chain rarely; a bound keeps a bad chain from looping

ACTIVE = "active"
MERGED = "merged"


class Outcome(enum.StrEnum):
    """What an event did to a read model, for the handlers' log and counter."""

    APPLIED = "applied"
    UNKNOWN_PERSON = "unknown_person"
    STALE = "stale"
    MERGED = "merged"
    NOT_NEEDED = "not_needed"  # nothing to do for this person (already oriented, invited...)


class MergeableRow(Protocol):
    """A row of a person that may have been merged into another's (`merged_into`)."""

    merged_into: uuid.UUID | None


class PersonRow(MergeableRow, Protocol):
    """The columns every read model of people has (a mapped class with them fits)."""

    person_id: uuid.UUID
    record_status: str
    record_version: int


class ServedRow(MergeableRow, Protocol):
    """A read model row that keeps the offices serving the person (registry's PersonServedAt)."""

    serving_offices: list[str]
    updated_at: datetime


Mapped_ = TypeVar("Mapped_")  # any mapped class
Found = TypeVar("Found")  # what a merge-chain walk reads
Mergeable = TypeVar("Mergeable", bound=MergeableRow)
Row = TypeVar("Row", bound=PersonRow)
Served = TypeVar("Served", bound=ServedRow)


async def locked(
    session: AsyncSession, model: type[Mapped_], person_id: uuid.UUID
) -> Mapped_ | None:
    """The person's row, locked until the transaction ends."""
    # populate_existing: within a consumer's batch the row may already be in the session, and
    # the database (under our lock) is what counts.
    return await session.get(model, person_id, with_for_update=True, populate_existing=True)


async def following_merges(
    fetch: Callable[[uuid.UUID], Awaitable[Found | None]], person_id: uuid.UUID
) -> Found | None:
    """What `fetch` finds for the person (a row with its `merged_into`), or for the record they
    were merged into, at most MAX_MERGE_HOPS away: the one walk of a merge chain, for a row read
    on its own or with more than itself (notify's recipient with its templates)."""
    row = await fetch(person_id)
    for _ in range(MAX_MERGE_HOPS):
        survivor: uuid.UUID | None = getattr(row, "merged_into", None)
        if row is None or survivor is None:
            break
        row = await fetch(survivor)
    return row


async def locked_following_merges(
    session: AsyncSession, model: type[Mergeable], person_id: uuid.UUID
) -> Mergeable | None:
    """The locked row of the person, or of the record they were merged into (`merged_into`)."""
    return await following_merges(lambda key: locked(session, model, key), person_id)


async def apply_record(
    session: AsyncSession,
    model: type[Row],
    person_id: uuid.UUID,
    version: int,
    fill: Callable[[Row], None],
    *,
    new: Mapping[str, Any] | None = None,
) -> Outcome:
    """A registration (version 1) or update: `fill` copies what the read model keeps of it.

    An update older than the stored version (a replay) and any update of a merged-away record
    change nothing. An update for a person not seen yet creates the row (with the columns in
    `new` set first): it carries the whole record.

    The row is read locked and written on the transaction's connection (`Direct`), `fill`
    working on an instance of `model` outside the session that holds it: the ORM's read and
    flush cost most of a consumer's CPU per registration. The row is written whole.
    """
    table: Table = model.__table__  # type: ignore[attr-defined]
    found = await _statement(_locked_row, table, ()).fetchrow(session, {"row_id": person_id})
    row = model()
    if found is None:
        row.person_id = person_id
        row.record_status = ACTIVE
        row.record_version = 0
        row.merged_into = None
        for name, value in (new or {}).items():
            setattr(row, name, value)
    else:
        for name, value in found.items():
            setattr(row, name, value)
        if row.record_status != ACTIVE:
            return Outcome.MERGED
        if row.record_version >= version:
            return Outcome.STALE
    fill(row)
    row.record_version = version
    held = sa_inspect(row).dict
    values = {column.key: held[column.key] for column in table.c if column.key in held}
    if found is None:
        await _statement(_insert_row, table, tuple(values)).execute(session, values)
    else:
        del values["person_id"]
        params = {"row_id": person_id, **values}
        await _statement(_update_row, table, tuple(params)).execute(session, params)
    return Outcome.APPLIED


# `apply_record`'s statements, per table and set of parameters (see `_statement`).
def _locked_row(table: Table, names: tuple[str, ...]) -> Direct:
    row_id = bindparam("row_id", type_=table.c.person_id.type)
    return Direct(select(table).where(table.c.person_id == row_id).with_for_update())


def _insert_row(table: Table, names: tuple[str, ...]) -> Direct:
    return Direct(pg_insert(table))


def _update_row(table: Table, names: tuple[str, ...]) -> Direct:
    row_id = bindparam("row_id", type_=table.c.person_id.type)
    return Direct(update(table).where(table.c.person_id == row_id))


_STATEMENTS: dict[tuple[Callable[..., Direct], Table, tuple[str, ...]], Direct] = {}


def _statement(
    build: Callable[[Table, tuple[str, ...]], Direct], table: Table, names: tuple[str, ...]
) -> Direct:
    """`build`'s statement for `table` and the parameters `names`, built once."""
    key = (build, table, names)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build(table, names)
    return statement


# What `upsert_record` sets only when it creates the row (and `new`): never by an update.
_SKELETON = ("person_id", "record_status", "merged_into")
_UPSERTS: dict[tuple[Table, tuple[str, ...], frozenset[str]], Direct] = {}


def _upsert(table: Table, names: tuple[str, ...], created_only: frozenset[str]) -> Direct:
    """`upsert_record`'s statement for the columns `names`: the row inserted, or its columns
    but `created_only` replaced when it is active and of an older version; returns the row's
    id when it wrote it."""
    unknown = set(names) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    new = pg_insert(table)
    return Direct(
        new.on_conflict_do_update(
            index_elements=[table.c.person_id],
            set_={name: new.excluded[name] for name in names if name not in created_only},
            where=(table.c.record_status == ACTIVE)
            & (table.c.record_version < new.excluded.record_version),
        ).returning(table.c.person_id)
    )


async def upsert_record(
    session: AsyncSession,
    model: type[PersonRow],
    person_id: uuid.UUID,
    version: int,
    values: Mapping[str, Any],
    *,
    new: Mapping[str, Any] | None = None,
) -> Outcome:
    """`apply_record` for a read model whose kept columns do not depend on the row before
    (`values`: the columns the record sets), in one statement instead of a locked read and a
    write through the ORM: INSERT ... ON CONFLICT DO UPDATE ... WHERE the row is active and
    of an older version. The same outcomes and rows; `new` as in `apply_record`."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    created = {"person_id": person_id, "record_status": ACTIVE, "merged_into": None, **(new or {})}
    params = {**created, **values, "record_version": version}
    key = (table, tuple(params), frozenset(created))
    statement = _UPSERTS.get(key)
    if statement is None:
        statement = _UPSERTS[key] = _upsert(table, tuple(params), frozenset(created))
    if await statement.fetchval(session, params) is not None:
        return Outcome.APPLIED
    # Not written: the row is there, merged away, or at this version or a later one.
    status = await session.scalar(
        select(table.c.record_status).where(table.c.person_id == person_id)
    )
    return Outcome.MERGED if status != ACTIVE else Outcome.STALE


async def add_serving_office(
    session: AsyncSession,
    model: type[Served],
    person_id: uuid.UUID,
    office_code: str,
    with_office: Callable[[list[str], str], list[str]],
) -> Outcome:
    """An office outside the person's province serves them now: `with_office(held, code)` is
    the read model's list with it. Kept once, whatever the redeliveries (an office already
    serving them changes nothing); a merged-away record passes it to the record it was merged
    into."""
    row = await locked_following_merges(session, model, person_id)
    if row is None:
        return Outcome.UNKNOWN_PERSON
    held = list(row.serving_offices or [])
    offices = with_office(held, office_code)
    if offices == held:
        return Outcome.STALE
    row.serving_offices = offices
    row.updated_at = datetime.now(UTC)
    await session.flush()
    return Outcome.APPLIED


async def merge(
    session: AsyncSession,
    model: type[Row],
    person_id: uuid.UUID,
    survivor_id: uuid.UUID,
    absorb: Callable[[Row, Row | None], Awaitable[None]],
) -> Outcome:
    """`person_id` was a duplicate of `survivor_id`: retire its row (merged into the survivor),
    then `absorb(duplicate, survivor)` moves what the read model keeps to the survivor's row
    (None when the survivor is unknown or itself merged away). A merge applied again, or of a
    person merged into themselves, changes nothing."""
    if person_id == survivor_id:
        return Outcome.STALE
    rows = {}
    # Both rows locked in id order, so that two merges touching the same rows cannot deadlock.
    for pid in sorted({person_id, survivor_id}):
        rows[pid] = await locked(session, model, pid)
    duplicate, survivor = rows[person_id], rows[survivor_id]
    if duplicate is None:
        return Outcome.UNKNOWN_PERSON
    if duplicate.record_status == MERGED:
        return Outcome.MERGED
    duplicate.record_status = MERGED
    duplicate.merged_into = survivor_id
    active = survivor if survivor is not None and survivor.record_status == ACTIVE else None
    await absorb(duplicate, active)
    await session.flush()
    return Outcome.APPLIED


def _column(model: type[Any], name: str) -> InstrumentedAttribute[Any]:
    column: InstrumentedAttribute[Any] = getattr(model, name)
    return column


async def records_of(
    session: AsyncSession, model: type[PersonRow], person_id: uuid.UUID
) -> list[uuid.UUID]:
    """The ids of the person's row and of the rows merged into it, locked: what an erasure of
    the person reaches (empty when the read model never knew them)."""
    person, merged_into = _column(model, "person_id"), _column(model, "merged_into")
    found = await session.scalars(
        select(person)
        .where(or_(person == person_id, merged_into == person_id))
        .order_by(person)
        .with_for_update()
    )
    return list(found.all())


async def erased_ids(
    session: AsyncSession, model: type[PersonRow], person_id: uuid.UUID
) -> list[uuid.UUID]:
    """The ids an erasure reaches in a feature's own tables: the person's, and those of the
    records merged into them that `model` (the service's read model) knows, locked as
    `records_of` locks them. Run it before the read model deletes its rows."""
    return sorted({person_id, *await records_of(session, model, person_id)})


async def delete_records(
    session: AsyncSession, model: type[PersonRow], ids: list[uuid.UUID]
) -> None:
    """Delete the rows `ids` (an erased person's, with `records_of`)."""
    await session.execute(
        delete(model)
        .where(_column(model, "person_id").in_(ids))
        .execution_options(synchronize_session="fetch")
    )


PersonTable = type[Any] | Table  # a model, or its Table, with a `person_id` column


def _person_column(table: PersonTable) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
    if isinstance(table, Table):
        column: ColumnElement[Any] = table.c.person_id
        return column
    return _column(table, "person_id")


async def move_person_rows(
    session: AsyncSession,
    table: PersonTable,
    merged: uuid.UUID,
    survivor: uuid.UUID,
    *where: ColumnElement[bool],
) -> None:
    """A merge: the duplicate's rows of a feature's own `table` (those meeting `where` too)
    become the survivor's."""
    await session.execute(
        update(table)
        .where(_person_column(table) == merged, *where)
        .values(person_id=survivor)
        .execution_options(synchronize_session=False)
    )


async def blank_person_rows(
    session: AsyncSession, table: PersonTable, person_ids: Sequence[uuid.UUID], *columns: str
) -> None:
    """An erasure: the free text (`columns`, which staff wrote and could name the person) of
    the people's rows of a feature's own `table` is blanked; the rows stay, for the counts."""
    await session.execute(
        update(table)
        .where(_person_column(table).in_(person_ids))
        .values(dict.fromkeys(columns))
        .execution_options(synchronize_session=False)
    )


class Skipped:
    """Counts (in the Prometheus counter `metric`, by event type and reason) and logs the
    events a read model applied without a change (unknown person, stale, merged): never an
    error, since an erasure may overtake events still in flight on other topics."""

    def __init__(self, metric: str, documentation: str, log: logging.Logger, what: str) -> None:
        self.counter = Counter(metric, documentation, ["type", "reason"])
        self._log, self._what = log, what

    def __call__(self, event: CloudEvent, outcome: Outcome) -> None:
        if outcome is Outcome.APPLIED:
            return
        self.counter.labels(event.type, outcome.value).inc()
        self._log.info("%s: %s %s changed nothing (%s)", self._what, event.type, event.id, outcome)


def person_handlers(
    note: Skipped,
    *,
    apply_person: Callable[[AsyncSession, PersonDetails, int], Awaitable[Outcome]] | None = None,
    apply_served_at: Callable[[AsyncSession, uuid.UUID, str], Awaitable[Outcome]] | None = None,
    merge: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[Outcome]] | None = None,
    erase: Callable[[AsyncSession, uuid.UUID], Awaitable[Outcome]] | None = None,
) -> dict[str, Handler]:
    """A read model's handlers of registry's person events, for the operations given, each
    noting the `Outcome`: a registration (as version 1) and an update (its record version)
    with `apply_person`; an office serving the person; a merge (duplicate, survivor); an
    erasure. The operations work on the read model in the handler's transaction
    (`work.session`)."""
    handlers: dict[str, Handler] = {}
    if apply_person is not None:
        apply = apply_person

        async def on_person_registered(work: Work, event: CloudEvent, payload: Event) -> None:
            note(event, await apply(work.session, expect(payload, PersonRegistered), 1))

        async def on_person_updated(work: Work, event: CloudEvent, payload: Event) -> None:
            person = expect(payload, PersonUpdated)
            note(event, await apply(work.session, person, person.record_version))

        handlers[PersonRegistered.event_type()] = on_person_registered
        handlers[PersonUpdated.event_type()] = on_person_updated
    if apply_served_at is not None:
        served_at = apply_served_at

        async def on_person_served_at(work: Work, event: CloudEvent, payload: Event) -> None:
            served = expect(payload, PersonServedAt)
            note(event, await served_at(work.session, served.person_id, served.office_code))

        handlers[PersonServedAt.event_type()] = on_person_served_at
    if merge is not None:
        merge_ = merge

        async def on_person_merged(work: Work, event: CloudEvent, payload: Event) -> None:
            merged = expect(payload, PersonMerged)
            note(event, await merge_(work.session, merged.person_id, merged.survivor_id))

        handlers[PersonMerged.event_type()] = on_person_merged
    if erase is not None:
        erase_ = erase

        async def on_person_erased(work: Work, event: CloudEvent, payload: Event) -> None:
            note(event, await erase_(work.session, expect(payload, PersonErased).person_id))

        handlers[PersonErased.event_type()] = on_person_erased
    return handlers


def person_reactions(
    *,
    merged: Callable[[Work, PersonMerged], Awaitable[None]],
    erased: Callable[[Work, PersonErased], Awaitable[None]],
) -> dict[str, Handler]:
    """A feature's reactions to registry's merge and erasure of a person, on its own tables,
    as the handler map its service's app.py combines with the others (`combine_handlers`).

    `merged` moves what the feature holds of the duplicate (`person_id`) to the survivor; it is
    never called for a person merged into themselves. `erased` removes or blanks what the
    feature holds of the person. Both get the handler's `Work` (its transaction is
    `work.session`).
    """

    async def on_person_merged(work: Work, event: CloudEvent, payload: Event) -> None:
        merge = expect(payload, PersonMerged)
        if merge.person_id != merge.survivor_id:
            await merged(work, merge)

    async def on_person_erased(work: Work, event: CloudEvent, payload: Event) -> None:
        await erased(work, expect(payload, PersonErased))

    return {
        PersonMerged.event_type(): on_person_merged,
        PersonErased.event_type(): on_person_erased,
    }
