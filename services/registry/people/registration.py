"""Registering a person: every rule checked at once, probable duplicates warned about, and the
record, its documents, consents, audit entries and events written in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CTE, Select, Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.audit.models import AuditEntry
from services.registry.consent import counter
from services.registry.jobseekers import service as jobseekers
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.keys import service as person_keys
from services.registry.offices.service import office_info
from services.registry.people.domain import age_errors, new_reference
from services.registry.people.duplicate_warnings import check_duplicates, duplicate_warning
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.record_fields import derived_values, field_values
from services.registry.people.records import documents_of, snapshot
from services.registry.people.schemas import (
    DocumentRead,
    IdentityDocumentIn,
    PersonCreate,
    PersonRead,
)
from services.registry.scope import require_province
from shared import clock
from shared.consumer.direct import Direct
from shared.events.registry import JobseekerProfile as ProfileData
from shared.events.registry import PersonRegistered
from shared.outbox import add_events
from shared.problems import FieldError, InvalidFields

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

_people = cast("Table", Person.__table__)
# A reference is 8 characters of 32 (10^12 codes): at a million people a new one collides about
# once in a million registrations, so a collision draws another code instead of failing.
REFERENCE_ATTEMPTS = 5

INSERT_DOCUMENT = insert(cast("Table", IdentityDocument.__table__))


def _written_with(person: CTE, table: Table, keys: tuple[str, ...]) -> CTE:
    """An insert into `table` of one row for the person `person` inserted (none when it inserted
    none), its other columns from parameters named `<table>_<column>`."""
    values = (bindparam(f"{table.name}_{k}", type_=table.c[k].type) for k in keys)
    return (
        insert(table)
        .from_select(["person_id", *keys], select(person.c.id, *values))
        .cte(f"new_{table.name}")
    )


def _registering(*, jobseeker: bool) -> Select[Any]:
    """The person's row, their jobseeker profile (if `jobseeker`) and the audit entry of
    the registration in one statement, one round trip instead of three; answers the new id, or
    no row when the reference was taken."""
    person = (
        pg_insert(_people)
        .values({c.key: bindparam(c.key, type_=c.type) for c in _people.columns})
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(_people.c.id)
        .cte("new_person")
    )
    written = [_written_with(person, _audit, audit.ENTRY_COLUMNS)]
    if jobseeker:
        written.append(_written_with(person, _profiles, jobseekers.PROFILE_COLUMNS))
    return select(person.c.id).add_cte(*written)


_audit = cast("Table", AuditEntry.__table__)

_profiles = cast("Table", JobseekerProfile.__table__)

# Compiled once and run on the transaction's connection (shared.consumer.direct): the session's
# path (cache key, parameter processing, result, greenlet switch) costs more than the statement.
_REGISTER_JOBSEEKER = Direct(_registering(jobseeker=True))

_REGISTER_PERSON = Direct(_registering(jobseeker=False))

_CREATE_FIELDS = frozenset(PersonCreate.model_fields)

# The people table's columns, listed once: `columns.keys()` builds the list again on each call.
_PEOPLE_COLUMNS = tuple(_people.columns.keys())


@dataclass(frozen=True)
class Registration:
    """A person just registered, with what was written beside the row: enough to answer
    without reading the record back."""

    row: dict[str, Any]  # the people row as inserted
    documents: list[dict[str, Any]]  # as inserted, in the order the record lists them
    profile: dict[str, Any] | None  # the jobseeker profile as `profile_dict` gives it

    @property
    def person_id(self) -> uuid.UUID:
        return cast("uuid.UUID", self.row["id"])

    def read(self) -> PersonRead:
        return PersonRead.model_validate(
            {**self.row, "documents": self.documents, "jobseeker": self.profile}
        )


async def filing_errors(
    session: AsyncSession, office_code: str | None, province_code: str, *, sent: bool
) -> list[FieldError]:
    """A person is filed at an office of their own province: the record's province decides who
    sees it ("Who sees what" in docs/architecture.md) and its office who holds it, so the two
    never disagree. `sent`: the request named the office (else it is the officer's own)."""
    if office_code is None:
        return []
    office = await office_info(session, office_code)
    if office is None:
        return [FieldError("office_code", f"no office {office_code}")] if sent else []
    if office.province_code == province_code:
        return []
    named = office_code if sent else f"your office {office_code} (office_code not sent)"
    return [
        FieldError(
            "office_code",
            f"{named} is in {office.province_code}: a person of {province_code} is registered"
            f" at an office of {province_code}",
        )
    ]


async def _refuse_broken_rules(
    session: AsyncSession,
    data: PersonCreate,
    office_code: str | None,
    today: date,
    minimum_age: int,
) -> None:
    """422 naming every rule the request breaks, at once."""
    errors = age_errors(data.date_of_birth, today, minimum_age)
    errors += await filing_errors(
        session, office_code, data.province_code, sent=data.office_code is not None
    )
    errors += counter.errors(data.consents, today)
    if errors:
        raise InvalidFields(errors)


def _new_row(
    data: PersonCreate,
    principal: Principal,
    office_code: str | None,
    candidates: list[dict[str, Any]],
    profile: ProfileData | None,
    now: datetime,
) -> dict[str, Any]:
    """The people row of the registration, derived values included."""
    # The row as a plain dict: an ORM object that no session will track only costs attribute
    # bookkeeping on every field.
    row: dict[str, Any] = dict.fromkeys(_PEOPLE_COLUMNS)
    row.update(
        id=uuid.uuid4(),
        reference=new_reference(),
        office_code=office_code,
        registered_by=principal.subject,
        record_status="active",
        version=1,
        created_at=now,
        updated_at=now,
        duplicate_override=(
            {"decision": "not_them", "confirmed_by": principal.subject, "candidates": candidates}
            if candidates
            else None
        ),
        **field_values(data, _CREATE_FIELDS),
    )
    row.update(derived_values(row, profile.desired_occupations if profile else []))
    row["jobseeker_status"] = "active" if profile else None
    return row


async def _insert_person(
    session: AsyncSession,
    data: PersonCreate,
    principal: Principal,
    row: dict[str, Any],
    profile: ProfileData | None,
    now: datetime,
) -> None:
    """Write the row, its jobseeker profile and its audit entry; a reference someone holds
    already draws another (`row` keeps the one written)."""
    filled = [f for f in type(data).model_fields if getattr(data, f) not in (None, [], False)]
    written = {
        **row,
        **_prefixed(_audit, audit.entry(principal, Action.REGISTERED, fields=filled)),
    }
    if profile is not None:
        written.update(_prefixed(_profiles, jobseekers.new_profile_dict(profile, now)))
    statement = _REGISTER_JOBSEEKER if profile is not None else _REGISTER_PERSON
    for _ in range(REFERENCE_ATTEMPTS):
        if await statement.fetchrow(session, written) is not None:
            break
        row["reference"] = written["reference"] = new_reference()
    else:
        raise RuntimeError("no free person reference after several draws")


async def _audit_answers(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    consents: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
) -> None:
    """Audit the consents answered at the counter and a duplicate warning overridden."""
    if consents:
        await audit.record(
            session,
            principal,
            Action.CONSENT_RECORDED,
            [person_id],
            fields=[c["purpose"] for c in consents],
        )
    if candidates:
        await audit.record(
            session,
            principal,
            Action.DUPLICATE_OVERRIDDEN,
            [person_id],
            fields=[c["id"] for c in candidates],
            reason="not them",
        )


async def _announce(
    session: AsyncSession,
    data: PersonCreate,
    row: dict[str, Any],
    profile: ProfileData | None,
    consents: list[dict[str, Any]],
) -> None:
    """PersonRegistered, then each consent answered as its own ConsentChanged."""
    # The person's key is made here, in the registration's transaction (keys/service.py).
    await person_keys.announce(
        session,
        PersonRegistered(
            **snapshot(
                row,
                profile.model_dump() if profile else None,
                passport_expiry(data.documents),
            ),
            registered_by=row["registered_by"],
            registered_at=row["created_at"],
            consents=counter.registered(consents),
        ),
        await person_keys.new_person_key(session, row["id"]),
    )
    # After the registration, under the person's key: consumers see the person first, then
    # each answer, in that order.
    await add_events(session, counter.changes(consents))


async def register(
    session: AsyncSession,
    data: PersonCreate,
    principal: Principal,
    *,
    minimum_age: int,
    as_jobseeker: bool,
    today: date | None = None,
) -> Registration:
    """Register a person (as a jobseeker, or only as a person, e.g. a prospective migrant).

    An identity document already registered answers 409 with the existing id; probable
    duplicates answer 409 with the candidates unless the officer confirmed, which is recorded.
    """
    require_province(principal, data.province_code)
    office_code = data.office_code or principal.office
    await _refuse_broken_rules(session, data, office_code, today or clock.today(), minimum_age)
    found = await check_duplicates(session, data)
    if found and not data.confirm_not_duplicate:
        raise await duplicate_warning(session, found, principal)
    candidates = [c.summary for c in found]
    now = datetime.now(UTC)
    profile: ProfileData | None = data.jobseeker if as_jobseeker else None
    if as_jobseeker and profile is None:
        profile = jobseekers.empty_profile()
    row = _new_row(data, principal, office_code, candidates, profile, now)
    await _insert_person(session, data, principal, row, profile, now)
    documents = [d.model_dump() for d in data.documents]
    if documents:
        await session.execute(
            INSERT_DOCUMENT,
            [{"id": uuid.uuid4(), "person_id": row["id"], **d} for d in documents],
        )
    consents = counter.rows(row["id"], data.consents, principal, now)
    await counter.write(session, consents)
    await _audit_answers(session, principal, row["id"], consents, candidates)
    await _announce(session, data, row, profile, consents)
    listed = _in_record_order(documents)
    if listed is None:
        listed = [
            DocumentRead.model_validate(d).model_dump()
            for d in await documents_of(session, row["id"])
        ]
    return Registration(
        row,
        listed,
        jobseekers.new_profile_dict(profile, now) if profile is not None else None,
    )


def _in_record_order(documents: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """`documents` in the order the record lists them (by kind, then number), or None when
    only the database can tell: numbers of one kind with punctuation, which its collation may
    order differently from Python."""
    kinds = {d["kind"] for d in documents}
    if len(kinds) < len(documents) and not all(d["number"].isalnum() for d in documents):
        return None
    return sorted(documents, key=lambda d: (d["kind"], d["number"]))


def _prefixed(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{table.name}_{k}": v for k, v in values.items()}


def passport_expiry(documents: list[IdentityDocumentIn]) -> date | None:
    """The expiry of the latest passport among `documents` (None without a passport)."""
    return max(
        (d.expires_on for d in documents if d.kind == "passport" and d.expires_on), default=None
    )
