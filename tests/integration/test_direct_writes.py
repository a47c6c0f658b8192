"""Outbox rows and audit entries are written on the transaction's own connection
(shared.db.driver_connection), not through the ORM session: they must still commit and roll back
with it, even as its first statement, and several in one call keep the order they were given."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from services.predeparture.audit import service as predeparture_audit
from services.predeparture.audit.domain import Action as PredepartureAction
from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.scope import default_basis
from shared.auth import Principal, Role
from shared.db import create_engine, session_factory
from shared.events.registry import PersonErased
from shared.outbox import add_event, add_events

if TYPE_CHECKING:
    from shared.settings import Settings

OFFICER = Principal(
    subject=f"officer-{uuid.uuid4()}", roles=frozenset({Role.ESC_STAFF}), office="VTE-01"
)


def _erased(person_id: uuid.UUID) -> PersonErased:
    return PersonErased(person_id=person_id, erased_by=OFFICER.subject, erased_at=datetime.now(UTC))


async def test_direct_writes_roll_back_with_the_transaction_even_as_its_first_statement(
    migrated: Settings,
) -> None:
    engine = create_engine(migrated, "registry")
    person = uuid.uuid4()
    try:
        async with session_factory(engine)() as session:
            # The first statements of the transaction: no ORM statement has sent BEGIN yet.
            envelope = await add_event(session, _erased(person))
            await audit.record(session, OFFICER, Action.ERASED, [person])
            await session.rollback()
        async with session_factory(engine)() as session:
            outbox = await session.scalar(
                text("SELECT count(*) FROM outbox WHERE event_id = :id"), {"id": envelope.id}
            )
            entries = await session.scalar(
                text("SELECT count(*) FROM audit_log WHERE person_id = :id"), {"id": person}
            )
        assert (outbox, entries) == (0, 0)
    finally:
        await engine.dispose()


async def test_several_rows_in_one_call_commit_in_the_order_given(migrated: Settings) -> None:
    engine = create_engine(migrated, "registry")
    people = [uuid.uuid4() for _ in range(5)]
    try:
        async with session_factory(engine)() as session:
            audit.note_access(session, people[1], "visit")
            envelopes = await add_events(session, [_erased(p) for p in people])
            await audit.record(session, OFFICER, Action.ERASED, people, fields=["a", "b"])
            await session.commit()
        async with session_factory(engine)() as session:
            outbox = (
                await session.execute(
                    text(
                        "SELECT event_id, key, value FROM outbox WHERE event_id = ANY(:ids)"
                        " ORDER BY id"
                    ),
                    {"ids": [e.id for e in envelopes]},
                )
            ).all()
            entries = (
                await session.execute(
                    text(
                        "SELECT person_id, basis, actor, office_code, action, fields, reason,"
                        " request_id FROM audit_log WHERE person_id = ANY(:ids) ORDER BY id"
                    ),
                    {"ids": people},
                )
            ).all()
        assert [(r.event_id, r.key, bytes(r.value)) for r in outbox] == [
            (e.id, str(p), e.to_bytes()) for e, p in zip(envelopes, people, strict=True)
        ]
        assert [tuple(r) for r in entries] == [
            (
                p,
                "visit" if p == people[1] else default_basis(OFFICER),
                OFFICER.subject,
                "VTE-01",
                Action.ERASED.value,
                ["a", "b"],
                None,
                None,
            )
            for p in people
        ]
    finally:
        await engine.dispose()


async def test_predeparture_entries_for_several_people_keep_their_order(
    migrated: Settings,
) -> None:
    engine = create_engine(migrated, "predeparture")
    people = [uuid.uuid4() for _ in range(4)]
    subject = uuid.uuid4()
    action = next(iter(PredepartureAction))
    try:
        async with session_factory(engine)() as session:
            await predeparture_audit.record(session, OFFICER, action, people, subject_id=subject)
            await predeparture_audit.record(session, OFFICER, action, subject_id=subject)
            await session.commit()
        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT person_id, actor, office_code, action FROM predeparture_audit_log"
                        " WHERE subject_id = :subject ORDER BY id"
                    ),
                    {"subject": subject},
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (p, OFFICER.subject, "VTE-01", action.value) for p in [*people, None]
        ]
    finally:
        await engine.dispose()
