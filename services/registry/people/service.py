"""People operations: one transaction each, state, audit and outbox event written together."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.audit.models import AuditEntry
from services.registry.consent import counter
from services.registry.consent.domain import VALID, ConsentStatus, effective_status
from services.registry.consent.models import Consent
from services.registry.duplicates import service as duplicates
from services.registry.duplicates.domain import Applicant
from services.registry.duplicates.service import Candidate
from services.registry.jobseekers import service as jobseekers
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.offices.service import office_info
from services.registry.people import cards, slip
from services.registry.people.domain import (
    AGE_BANDS,
    SCALAR_FIELDS,
    Identifiers,
    age_errors,
    birth_dates_for_ages,
    disability_flag,
    identifiers_in,
    new_reference,
    occupation_codes,
    search_tokens,
)
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.schemas import (
    DocumentRead,
    IdentityDocumentIn,
    PersonCard,
    PersonCreate,
    PersonFields,
    PersonRead,
    PersonSummary,
    PersonUpdate,
)
from services.registry.serving.models import ServiceLink
from shared import clock
from shared.auth import Principal
from shared.db import clock_now
from shared.events.registry import JobseekerProfile as ProfileData
from shared.events.registry import PersonRegistered, PersonUpdated
from shared.outbox import add_event
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidField,
    InvalidFields,
    NotFound,
    Problem,
)
from shared.reference.names import PersonName
from shared.reference.offices import office_name
from shared.versioning import check_version

_people = cast(Table, Person.__table__)
# A reference is 8 characters of 32 (10^12 codes): at a million people a new one collides about
# once in a million registrations, so a collision draws another code instead of failing.
REFERENCE_ATTEMPTS = 5
_INSERT_DOCUMENT = insert(cast(Table, IdentityDocument.__table__))


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


_audit = cast(Table, AuditEntry.__table__)
_profiles = cast(Table, JobseekerProfile.__table__)
_REGISTER_JOBSEEKER = _registering(jobseeker=True)
_REGISTER_PERSON = _registering(jobseeker=False)

_SCALARS = SCALAR_FIELDS
_CREATE_FIELDS = frozenset(PersonCreate.model_fields)
# Fields of the record that are personal data: emptied on erasure and on the merged-away copy.
PERSONAL = (
    *(f for f in _SCALARS if f not in {"sex", "province_code", "preferred_language"}),
    "disability",
    "has_disability",
    "isced_level",
    "skills",
    "certificates",
    "languages",
    "experience",
    "name_tokens",
    "occupation_codes",
    "duplicate_override",
)


class Gone(Problem):
    status, slug, title = 410, "erased", "Erased"


class DocumentAlreadyRegistered(Conflict):
    slug, title = "duplicate-document", "Identity document already registered"


class ProbableDuplicate(Conflict):
    """Registered people look like this one: each candidate with its card, and the decisions.

    `cards` are kept on the exception so that whoever answers the warning audits them as
    shown (the registration itself is not written).
    """

    slug, title = "probable-duplicate", "Probable duplicate"

    def __init__(self, detail: str, cards: list[PersonCard], **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.cards = cards


# -- reading ---------------------------------------------------------------------------------


async def find_person(session: AsyncSession, person_id: uuid.UUID, *, lock: bool = False) -> Person:
    """The record that holds `person_id` now, whoever asks: 404 for unknown, 410 erased.

    A merged-away id leads to the survivor, so links and paper forms quoting it keep working.
    Only for what any office may do with someone it cannot see yet (record a visit, take the
    record over); everything else goes through `get_person`.
    """
    person = await _following_merges(session, person_id, lock)
    if person.record_status == "erased":
        raise Gone(f"person {person_id} was erased on request")
    return person


async def _following_merges(session: AsyncSession, person_id: uuid.UUID, lock: bool) -> Person:
    person = await session.get(Person, person_id, with_for_update=lock)
    for _ in range(5):  # merges chain rarely; a bound keeps a bad chain from looping
        if person is None or person.merged_into is None:
            break
        person = await session.get(Person, person.merged_into, with_for_update=lock)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Person:
    """A person the principal may see; 404 for unknown, 403 outside their scope, 410 erased.

    The scope is the person's province, national scope, or an office serving the person (a
    visit or an enrolment recorded there): the basis is noted so that every audit entry of
    this transaction about the person names it. A merged-away id leads to the survivor.
    `lock` holds the person's row until the transaction ends, so that changes that depend on
    the person's current state (consent, lifecycle) are made one after the other.
    """
    person = await _following_merges(session, person_id, lock)
    basis = await access_basis(session, person.id, person.province_code, principal)
    if person.record_status == "erased":
        raise Gone(f"person {person_id} was erased on request")
    if basis is not None:
        audit.note_access(session, person.id, basis)
    return person


async def serving_basis(
    session: AsyncSession, person_id: uuid.UUID, office_code: str | None
) -> str | None:
    """How `office_code` came to serve the person (visit, enrolment), or None."""
    if office_code is None:
        return None
    return await session.scalar(
        select(ServiceLink.basis).where(
            ServiceLink.person_id == person_id, ServiceLink.office_code == office_code
        )
    )


async def access_basis(
    session: AsyncSession, person_id: uuid.UUID, province_code: str, principal: Principal
) -> str | None:
    """On what basis the principal may reach the person (see "Who sees what" in
    docs/architecture.md); 403 when on none. The link is only looked up for staff of another
    province, so the common case costs no query."""
    if principal.can_see_province(province_code):
        return audit.default_basis(principal)
    link = await serving_basis(session, person_id, principal.office)
    principal.require_serves(province_code, [principal.office] if link and principal.office else [])
    return link


async def person_by_reference(session: AsyncSession, reference: str) -> uuid.UUID:
    """The id of the record with this reference (merged-away or not); 404 when none."""
    found = await session.scalar(select(Person.id).where(Person.reference == reference))
    if found is None:
        raise NotFound(f"no person {reference}")
    return found


async def documents_of(session: AsyncSession, person_id: uuid.UUID) -> list[IdentityDocument]:
    rows = await session.scalars(
        select(IdentityDocument)
        .where(IdentityDocument.person_id == person_id)
        .order_by(IdentityDocument.kind, IdentityDocument.number)
    )
    return list(rows.all())


async def to_read(session: AsyncSession, person: Person) -> PersonRead:
    documents = await documents_of(session, person.id)
    profile = await session.get(JobseekerProfile, person.id)
    return PersonRead.model_validate(
        {
            **_column_values(person),
            "documents": [DocumentRead.model_validate(d) for d in documents],
            "jobseeker": jobseekers.profile_dict(profile) if profile else None,
        }
    )


@dataclass(frozen=True)
class Registration:
    """A person just registered, with what was written beside the row: enough to answer
    without reading the record back."""

    row: dict[str, Any]  # the people row as inserted
    documents: list[dict[str, Any]]  # as inserted, in the order the record lists them
    profile: dict[str, Any] | None  # the jobseeker profile as `profile_dict` gives it

    @property
    def person_id(self) -> uuid.UUID:
        return cast(uuid.UUID, self.row["id"])

    def read(self) -> PersonRead:
        return PersonRead.model_validate(
            {**self.row, "documents": self.documents, "jobseeker": self.profile}
        )


async def read_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, reason: str | None
) -> PersonRead:
    """The whole record, logged in the audit trail as read by the principal."""
    person = await get_person(session, person_id, principal)
    await audit.record(session, principal, Action.READ, [person.id], reason=reason)
    return await to_read(session, person)


# -- registering -----------------------------------------------------------------------------


def _name(fields: PersonFields | Person) -> PersonName:
    return PersonName(
        fields.given_name_lo, fields.family_name_lo, fields.given_name_en, fields.family_name_en
    )


def _document_keys(documents: list[IdentityDocumentIn]) -> list[tuple[str, str, str]]:
    return [(d.kind, d.country, d.number) for d in documents]


async def _refuse_known_documents(
    session: AsyncSession, documents: list[IdentityDocumentIn], exclude: uuid.UUID | None = None
) -> None:
    owner = await duplicates.document_owner(session, _document_keys(documents), exclude=exclude)
    if owner is not None:
        person_id, kind, number = owner
        raise DocumentAlreadyRegistered(
            f"{kind} {number} belongs to a registered person",
            existing_id=str(person_id),
            field="documents",
        )


async def check_duplicates(session: AsyncSession, data: PersonCreate) -> list[Candidate]:
    """409 on a known document; otherwise the probable duplicates of this registration."""
    await _refuse_known_documents(session, data.documents)
    applicant = Applicant(_name(data), data.date_of_birth, data.phone)
    return await duplicates.probable_duplicates(session, applicant)


NOT_THEM = (
    "not them: send the registration again with confirm_not_duplicate=true; the decision and "
    "these candidates are recorded with the new person"
)


async def candidate_cards(
    session: AsyncSession, candidates: list[Candidate], principal: Principal
) -> list[PersonCard]:
    """Each candidate's card, marked outside the scope when the officer may not open it."""
    ids = [c.person["id"] for c in candidates]
    served = set()
    if principal.office is not None and ids:
        served = set(
            (
                await session.scalars(
                    select(ServiceLink.person_id).where(
                        ServiceLink.person_id.in_(ids), ServiceLink.office_code == principal.office
                    )
                )
            ).all()
        )
    return [
        await cards.card(
            session,
            c.person,
            outside_scope=not (
                c.person["id"] in served or principal.can_see_province(c.person["province_code"])
            ),
        )
        for c in candidates
    ]


async def duplicate_warning(
    session: AsyncSession, candidates: list[Candidate], principal: Principal
) -> ProbableDuplicate:
    """The 409 of a registration that looks like registered people, with what is needed to
    decide: the candidates' cards (names, birth date, registering office), and the decisions
    (a card outside the officer's scope offers a visit here or taking the record over)."""
    shown = await candidate_cards(session, candidates, principal)
    count = (
        "1 registered person looks"
        if len(candidates) == 1
        else f"{len(candidates)} registered people look"
    )
    return ProbableDuplicate(
        f"{count} like this person; check the cards: if one is them, use its actions; if "
        "not, send confirm_not_duplicate=true",
        cards=shown,
        candidates=[
            {**c.summary, "card": card.model_dump(mode="json")}
            for c, card in zip(candidates, shown, strict=True)
        ],
        decisions={
            "this_is_them": "use the candidate card's actions: open (in your scope), "
            "record_visit or take_over (outside it)",
            "not_them": NOT_THEM,
        },
    )


async def record_warning(
    session: AsyncSession, principal: Principal, warning: ProbableDuplicate
) -> None:
    """Audit what a duplicate warning showed: cards outside the scope as shown, others listed."""
    await cards.record_shown(session, principal, warning.cards, reason="duplicate warning")
    await audit.record(
        session,
        principal,
        Action.LISTED,
        [c.id for c in warning.cards if not c.outside_scope],
        reason="duplicate warning",
    )


def _derived(person: Person, desired: list[str]) -> None:
    """Recompute what is derived from the record: disability flag, search keys, birth year."""
    for field, value in _derived_values(_column_values(person), desired).items():
        setattr(person, field, value)


def _derived_values(row: Mapping[str, Any], desired: list[str]) -> dict[str, Any]:
    """What is derived from the record's values: disability flag, search keys, birth year."""
    derived = {
        "has_disability": disability_flag(row["disability"]),
        "name_tokens": search_tokens(
            row["given_name_lo"], row["family_name_lo"], row["given_name_en"], row["family_name_en"]
        ),
        "occupation_codes": occupation_codes(
            [e["isco08"] for e in row["experience"] or []] + desired
        ),
    }
    if row["date_of_birth"] is not None:
        derived["birth_year"] = row["date_of_birth"].year
    return derived


def _apply(person: Person, data: PersonFields) -> list[str]:
    """Copy the fields the client sent onto the row; the names of those whose value changed."""
    changed = []
    for field, value in _field_values(data, data.model_fields_set).items():
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    return changed


def _field_values(data: PersonFields, sent: Collection[str]) -> dict[str, Any]:
    """The stored form of the fields of `data` named in `sent`, by column."""
    values: dict[str, Any] = {f: getattr(data, f) for f in _SCALARS if f in sent}
    if "disability" in sent:
        values["disability"] = (
            {d.value: a.value for d, a in data.disability.items()} if data.disability else None
        )
    if "education" in sent:
        values["isced_level"] = data.education.isced_level if data.education else None
    if "skills" in sent:
        values["skills"] = list(dict.fromkeys(data.skills.tags)) if data.skills else []
        values["certificates"] = (
            [c.model_dump(mode="json") for c in data.skills.certificates] if data.skills else []
        )
    if "languages" in sent:
        values["languages"] = [x.model_dump(mode="json") for x in data.languages or []]
    if "experience" in sent:
        values["experience"] = [x.model_dump(mode="json") for x in data.experience or []]
    return values


def _column_values(person: Person) -> dict[str, Any]:
    return {column.key: getattr(person, column.key) for column in _people.columns}


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
    principal.require_province(data.province_code)
    today = today or clock.today()
    # Every rule the request breaks, named at once.
    errors = age_errors(data.date_of_birth, today, minimum_age)
    office_code = data.office_code or principal.office
    errors += await filing_errors(
        session, office_code, data.province_code, sent=data.office_code is not None
    )
    errors += counter.errors(data.consents, today)
    if errors:
        raise InvalidFields(errors)
    found = await check_duplicates(session, data)
    if found and not data.confirm_not_duplicate:
        raise await duplicate_warning(session, found, principal)
    candidates = [c.summary for c in found]
    now = datetime.now(UTC)
    # The row as a plain dict: an ORM object that no session will track only costs attribute
    # bookkeeping on every field.
    row: dict[str, Any] = dict.fromkeys(_people.columns.keys())
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
        **_field_values(data, _CREATE_FIELDS),
    )
    profile: ProfileData | None = data.jobseeker if as_jobseeker else None
    if as_jobseeker and profile is None:
        profile = jobseekers.empty_profile()
    row.update(_derived_values(row, profile.desired_occupations if profile else []))
    row["jobseeker_status"] = "active" if profile else None
    filled = [f for f in type(data).model_fields if getattr(data, f) not in (None, [], False)]
    written = {
        **row,
        **_prefixed(_audit, audit.entry(principal, Action.REGISTERED, fields=filled)),
    }
    if profile is not None:
        written.update(_prefixed(_profiles, jobseekers.new_profile_dict(profile, now)))
    statement = _REGISTER_JOBSEEKER if profile is not None else _REGISTER_PERSON
    for _ in range(REFERENCE_ATTEMPTS):
        if (await session.execute(statement, written)).first() is not None:
            break
        row["reference"] = written["reference"] = new_reference()
    else:
        raise RuntimeError("no free person reference after several draws")
    documents = [d.model_dump() for d in data.documents]
    if documents:
        await session.execute(
            _INSERT_DOCUMENT,
            [{"id": uuid.uuid4(), "person_id": row["id"], **d} for d in documents],
        )
    consents = counter.rows(row["id"], data.consents, principal, now)
    await counter.write(session, consents)
    if consents:
        await audit.record(
            session,
            principal,
            Action.CONSENT_RECORDED,
            [row["id"]],
            fields=[c["purpose"] for c in consents],
        )
    if candidates:
        await audit.record(
            session,
            principal,
            Action.DUPLICATE_OVERRIDDEN,
            [row["id"]],
            fields=[c["id"] for c in candidates],
            reason="not them",
        )
    await add_event(
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
    )
    # After the registration, under the person's key: consumers see the person first, then
    # each answer, in that order.
    for change in counter.changes(consents):
        await add_event(session, change)
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


async def stored_passport_expiry(session: AsyncSession, person_id: uuid.UUID) -> date | None:
    """The expiry of the person's latest registered passport, in one cheap query."""
    return await session.scalar(
        select(func.max(IdentityDocument.expires_on)).where(
            IdentityDocument.person_id == person_id, IdentityDocument.kind == "passport"
        )
    )


def snapshot(
    record: Mapping[str, Any], profile: dict[str, Any] | None, passport_expires_on: date | None
) -> dict[str, Any]:
    """The record (its column values) as events carry it: everything but identity documents
    and internal keys.

    Of the documents only the latest passport's expiry travels (matching ranks readiness to
    depart by it); numbers stay in registry.
    """
    return {
        "person_id": record["id"],
        "reference": record["reference"],
        "given_name_lo": record["given_name_lo"],
        "family_name_lo": record["family_name_lo"],
        "given_name_en": record["given_name_en"],
        "family_name_en": record["family_name_en"],
        "sex": record["sex"],
        "date_of_birth": record["date_of_birth"],
        "phone": record["phone"],
        "email": record["email"],
        "ethnicity": record["ethnicity"],
        "has_disability": record["has_disability"],
        "province_code": record["province_code"],
        "district": record["district"],
        "village": record["village"],
        "office_code": record["office_code"],
        "preferred_language": record["preferred_language"],
        "isced_level": record["isced_level"],
        "skills": record["skills"] or [],
        "certificates": record["certificates"] or [],
        "languages": record["languages"] or [],
        "experience": record["experience"] or [],
        "jobseeker": profile,
        "passport_expires_on": passport_expires_on,
    }


# -- updating --------------------------------------------------------------------------------


async def announce_update(
    session: AsyncSession, person: Person, changed: list[str], principal: Principal
) -> None:
    """Bump the version and publish the record after a change, with what changed."""
    person.version += 1
    person.updated_at = await clock_now(session)
    await session.flush()
    profile = await session.get(JobseekerProfile, person.id)
    await add_event(
        session,
        PersonUpdated(
            **snapshot(
                _column_values(person),
                jobseekers.profile_dict(profile) if profile else None,
                await stored_passport_expiry(session, person.id),
            ),
            changed_fields=sorted(changed),
            record_version=person.version,
            updated_by=principal.subject,
            updated_at=person.updated_at,
        ),
    )


async def update_person(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: PersonUpdate,
    principal: Principal,
    *,
    expected_version: int | None,
    minimum_age: int,
    today: date | None = None,
) -> Person:
    """Change the fields sent; 412 when `expected_version` (If-Match) is not the current one."""
    person = await get_person(session, person_id, principal, lock=True)
    check_version(person.version, expected_version)
    errors = [
        FieldError(required, "cannot be removed")
        for required in ("sex", "date_of_birth", "province_code", "preferred_language")
        if required in data.model_fields_set and getattr(data, required) is None
    ]
    named = {
        f: getattr(data, f) if f in data.model_fields_set else getattr(person, f)
        for f in ("given_name_lo", "given_name_en")
    }
    if not any(named.values()):
        errors.append(
            FieldError(
                "given_name_lo" if "given_name_lo" in data.model_fields_set else "given_name_en",
                "given_name_lo or given_name_en is required",
            )
        )
    if data.date_of_birth is not None and data.date_of_birth != person.date_of_birth:
        errors += age_errors(data.date_of_birth, today or clock.today(), minimum_age)
    if (
        data.province_code is not None
        and data.province_code != person.province_code
        and principal.can_see_province(data.province_code)  # else 403 below
        and (held_by := await office_info(session, person.office_code or "")) is not None
        and held_by.province_code != data.province_code
    ):
        # The record's office stays: another province would file the person under an office
        # of another province. Someone who moved is taken over by their new office.
        errors.append(
            FieldError(
                "province_code",
                f"the record is held by {held_by.code}, in {held_by.province_code}: a person who"
                f" moved is taken over by an office of {data.province_code}"
                f" (POST /v1/people/{person.reference}/transfer)",
            )
        )
    if errors:
        raise InvalidFields(errors)
    if data.province_code is not None:
        principal.require_province(data.province_code)
    changed = _apply(person, data)
    if data.documents is not None and await _replace_documents(session, person, data.documents):
        changed.append("documents")
    profile = await session.get(JobseekerProfile, person.id)
    if data.jobseeker is not None and await jobseekers.update_profile(
        session, person.id, profile, data.jobseeker
    ):
        changed.append("jobseeker")
        profile = await session.get(JobseekerProfile, person.id)
    if not changed:  # nothing to change, but the record is answered: a read
        await audit.record(session, principal, Action.READ, [person.id], reason=data.reason)
        return person
    _derived(person, list(profile.desired_occupations) if profile else [])
    await announce_update(session, person, changed, principal)
    await audit.record(
        session, principal, Action.UPDATED, [person.id], fields=sorted(changed), reason=data.reason
    )
    return person


async def _replace_documents(
    session: AsyncSession, person: Person, documents: list[IdentityDocumentIn]
) -> bool:
    current = {
        (d.kind, d.country, d.number, d.issued_on, d.expires_on)
        for d in await documents_of(session, person.id)
    }
    wanted = {(d.kind, d.country, d.number, d.issued_on, d.expires_on) for d in documents}
    if current == wanted:
        return False
    await _refuse_known_documents(session, documents, exclude=person.id)
    await session.execute(delete(IdentityDocument).where(IdentityDocument.person_id == person.id))
    if documents:
        await session.execute(
            _INSERT_DOCUMENT,
            [{"id": uuid.uuid4(), "person_id": person.id, **d.model_dump()} for d in documents],
        )
    return True


# -- lists and search ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    office_code: str | None = None
    province_code: str | None = None
    jobseeker_status: str | None = None
    sex: str | None = None
    age_band: str | None = None
    occupation: str | None = None
    migration_status: str | None = None
    q: str | None = None


def _scope(filters: Filters, principal: Principal) -> str | None:
    """The province the list is limited to: the asked one if the principal may see it."""
    if filters.province_code is not None:
        principal.require_province(filters.province_code)
        return filters.province_code
    if principal.sees_all_provinces:
        return None
    if principal.province is None:
        raise Forbidden("your token carries no province")
    return principal.province


_SUMMARY = tuple(getattr(Person, f) for f in PersonSummary.model_fields if hasattr(Person, f))
_CARD = tuple(getattr(Person, f) for f in cards.SHOWN if f not in PersonSummary.model_fields)


def _conditions(filters: Filters, today: date) -> list[Any]:
    """What the filters ask, but the scope and the search text."""
    conditions: list[Any] = [Person.record_status == "active"]
    if filters.office_code is not None:
        conditions.append(Person.office_code == filters.office_code)
    if filters.sex is not None:
        conditions.append(Person.sex == filters.sex)
    if filters.jobseeker_status is not None:
        conditions.append(Person.jobseeker_status == filters.jobseeker_status)
    if filters.migration_status is not None:
        conditions.append(Person.migration_status == filters.migration_status)
    if filters.occupation is not None:
        conditions.append(Person.occupation_codes.contains([filters.occupation]))
    if filters.age_band is not None:
        earliest, latest = birth_dates_for_ages(*AGE_BANDS[filters.age_band], today)
        conditions.append(Person.date_of_birth.between(earliest, latest))
    return conditions


def _carrying(found: Identifiers) -> Any:
    """People carrying one of these identifiers; a merged-away reference leads to the record
    that holds the person now, as paper and SMS quoting it may."""
    held = []
    if found.reference is not None:
        merged_into = select(Person.merged_into).where(Person.reference == found.reference)
        held += [Person.reference == found.reference, Person.id.in_(merged_into.scalar_subquery())]
    if found.phone is not None:
        held.append(Person.phone == found.phone)
    if found.document_number is not None:
        held.append(
            Person.id.in_(
                select(IdentityDocument.person_id).where(
                    IdentityDocument.number == found.document_number
                )
            )
        )
    return or_(*held)


def _served_here(principal: Principal) -> Any:
    """How the principal's office serves the person of the row (visit, enrolment), or null."""
    return (
        select(ServiceLink.basis)
        .where(ServiceLink.person_id == Person.id, ServiceLink.office_code == principal.office)
        .scalar_subquery()
        .label("served_basis")
    )


def _list_branches(filters: Filters, principal: Principal, today: date) -> list[Select[Any]]:
    """The queries whose rows, newest first, make the page: one per way of being in scope.

    Staff of a province see its people and, apart, the people of other provinces their office
    serves: two index-backed branches merged by the page, rather than one OR that no index
    serves.
    """
    conditions = _conditions(filters, today)
    if filters.q is not None and (found := identifiers_in(filters.q)):
        # What the person carries is exact: found in every province, cards for the others.
        if filters.province_code is not None:
            conditions.append(Person.province_code == filters.province_code)
        return [
            select(*_SUMMARY, *_CARD, _served_here(principal)).where(_carrying(found), *conditions)
        ]
    if filters.q is not None:
        tokens = search_tokens(filters.q)
        if not tokens:
            raise InvalidField("q", "has no letters to search for")
        conditions.append(Person.name_tokens.contains(tokens))
    province = _scope(filters, principal)
    if province is None:
        return [select(*_SUMMARY, null().label("served_basis")).where(*conditions)]
    branches = [
        select(*_SUMMARY, null().label("served_basis")).where(
            Person.province_code == province, *conditions
        )
    ]
    if filters.province_code is None and principal.office is not None:
        branches.append(
            select(*_SUMMARY, ServiceLink.basis.label("served_basis"))
            .join(ServiceLink, ServiceLink.person_id == Person.id)
            .where(
                ServiceLink.office_code == principal.office,
                Person.province_code != province,
                *conditions,
            )
        )
    return branches


async def list_people(
    session: AsyncSession,
    filters: Filters,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    today: date | None = None,
) -> tuple[list[PersonSummary], str | None, list[PersonCard]]:
    """A page of people newest first, in the principal's scope, each listed one audited; a
    search by what the person carries also answers cards of people outside it (audited too)."""
    branches = _list_branches(filters, principal, today or clock.today())
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        after = tuple_(Person.created_at, Person.id) < tuple_(at, last_id)
        branches = [b.where(after) for b in branches]
    newest = (Person.created_at.desc(), Person.id.desc())
    branches = [b.order_by(*newest).limit(limit + 1) for b in branches]
    if len(branches) == 1:
        statement = branches[0]
    else:
        merged = union_all(*branches).subquery()
        statement = (
            select(merged).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit + 1)
        )
    rows = (await session.execute(statement)).mappings().all()
    page = rows[:limit]
    items, shown = [], []
    for row in page:
        if row["served_basis"] is not None:
            audit.note_access(session, row["id"], row["served_basis"])
            items.append(PersonSummary.model_validate(dict(row)))
        elif principal.can_see_province(row["province_code"]):
            items.append(PersonSummary.model_validate(dict(row)))
        else:  # only an exact lookup reaches here
            shown.append(await cards.card(session, row, outside_scope=True))
    await audit.record(session, principal, Action.LISTED, [i.id for i in items])
    await cards.record_shown(session, principal, shown, reason="lookup")
    more = len(rows) > limit
    last = page[-1] if page else None
    next_cursor = encode_cursor(last["created_at"], last["id"]) if more and last else None
    return items, next_cursor, shown


# -- paper -----------------------------------------------------------------------------------


async def _sms_consented(session: AsyncSession, person_id: uuid.UUID, today: date) -> bool:
    """Whether the person's latest answer about SMS is a consent in force."""
    latest = (
        await session.execute(
            select(Consent.status, Consent.expires_on)
            .where(Consent.person_id == person_id, Consent.purpose == "contact_sms")
            .order_by(Consent.recorded_at.desc())
            .limit(1)
        )
    ).first()
    if latest is None:
        return False
    return effective_status(ConsentStatus(latest.status), latest.expires_on, today) in VALID


async def print_slip(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal
) -> tuple[str, bytes]:
    """The person's registration slip (their reference and the PDF), audited like a read."""
    person = await get_person(session, person_id, principal)
    today = clock.today()
    office = await office_info(session, person.office_code) if person.office_code else None
    code = person.office_code or ""
    printed = slip.Slip(
        reference=person.reference,
        name_lo=" ".join(filter(None, (person.given_name_lo, person.family_name_lo))) or None,
        name_en=" ".join(filter(None, (person.given_name_en, person.family_name_en))) or None,
        office_name_lo=office.name_lo if office else office_name(code, "lo"),
        office_name_en=office.name_en if office else office_name(code, "en"),
        registered_on=person.created_at.astimezone(clock.LAO_TIME).date(),
        jobseeker=person.jobseeker_status is not None,
        # The slip promises an SMS only to someone who can and agreed to receive one.
        sms=person.phone is not None and await _sms_consented(session, person.id, today),
    )
    await audit.record(session, principal, Action.SLIP_PRINTED, [person.id], fields=slip.PRINTED)
    return person.reference, slip.render(printed)
