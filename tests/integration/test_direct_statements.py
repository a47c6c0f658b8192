"""Consumers' hot statements run on the transaction's own connection (shared.consumer.direct):
they must commit and roll back with the session's transaction, even as its first statement, and
see what the ORM changed before them in it, as a statement through the session would."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, bindparam, insert, select

from services.notify.contacts.models import Contact
from shared.consumer.direct import Direct
from shared.db import create_engine, session_factory

if TYPE_CHECKING:
    from shared.settings import Settings

_CONTACTS = cast("Table", Contact.__table__)
_ADD = Direct(insert(_CONTACTS))
_PHONE = Direct(
    select(_CONTACTS.c.phone).where(
        _CONTACTS.c.person_id == bindparam("person_id", type_=_CONTACTS.c.person_id.type)
    )
)


def _contact(person_id: uuid.UUID) -> dict[str, object]:
    return {"person_id": person_id, "preferred_language": "lo", "province_code": "LA-VT"}


async def test_a_direct_statement_rolls_back_and_commits_with_the_session(
    migrated: Settings,
) -> None:
    engine = create_engine(migrated, "notify")
    sessions = session_factory(engine)
    dropped, kept = uuid.uuid4(), uuid.uuid4()
    try:
        async with sessions() as session:
            await _ADD.execute(session, _contact(dropped))  # the transaction's first statement
            await session.rollback()
            # The same session's next transaction (a connection of its own from the pool).
            await _ADD.execute(session, _contact(kept))
            await session.commit()
        async with sessions() as session:
            found = await session.scalars(
                select(Contact.person_id).where(Contact.person_id.in_([dropped, kept]))
            )
            assert list(found) == [kept]
            # The column's default (jobseeker: false) was given as the session would give it.
            jobseeker = await session.scalar(
                select(Contact.jobseeker).where(Contact.person_id == kept)
            )
            assert jobseeker is False
    finally:
        await engine.dispose()


async def test_a_direct_statement_sees_what_the_orm_changed_before_it(migrated: Settings) -> None:
    engine = create_engine(migrated, "notify")
    person = uuid.uuid4()
    try:
        async with session_factory(engine)() as session:
            session.add(Contact(**_contact(person), phone="+8562055550001"))
            assert await _PHONE.fetchval(session, {"person_id": person}) == "+8562055550001"
            contact = await session.get(Contact, person)
            assert contact is not None
            contact.phone = "+8562055550002"
            assert await _PHONE.fetchval(session, {"person_id": person}) == "+8562055550002"
            await session.rollback()
    finally:
        await engine.dispose()
