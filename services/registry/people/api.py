"""HTTP routes for people: validate, call one operation, return."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.keys.api import PublishingNoted
from services.registry.offices.api import Staff
from services.registry.people import (
    duplicate_warnings,
    lifecycle,
    records,
    search,
    slip_printing,
    updating,
)
from services.registry.people.deps import PersonId
from services.registry.people.domain import AGE_BANDS
from services.registry.people.registration import register
from services.registry.people.schemas import (
    DuplicateCandidate,
    DuplicateCheck,
    Erased,
    ErasureIn,
    MergeIn,
    PersonCreate,
    PersonPage,
    PersonRead,
    PersonUpdate,
)
from shared.app import SettingsDep, app_settings
from shared.auth import Principal
from shared.db import SessionDep
from shared.events.registry import JobseekerState, MigrationState, Sex
from shared.idempotency import Answer, idempotent
from shared.problems import InvalidField, problem_response
from shared.reference.isco08 import validate_isco08
from shared.versioning import etag, parse_if_match

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(prefix="/v1", tags=["people"], dependencies=[PublishingNoted])

AgeBand = Literal["15-24", "25-34", "35-44", "45-54", "55-64", "65+"]
assert set(AgeBand.__args__) == set(AGE_BANDS)  # type: ignore[attr-defined]


async def _register(
    body: PersonCreate,
    request: Request,
    session: SessionDep,
    principal: Staff,
    *,
    as_jobseeker: bool,
) -> Answer[PersonRead] | JSONResponse:
    try:
        registration = await register(
            session,
            body,
            principal,
            minimum_age=app_settings(request).registry_min_age_jobseeker,
            as_jobseeker=as_jobseeker,
        )
    except duplicate_warnings.ProbableDuplicate as warning:
        return await _warn(session, request, principal, warning)
    return Answer(201, registration.read())


async def _warn(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    warning: duplicate_warnings.ProbableDuplicate,
) -> JSONResponse:
    """Answer a duplicate warning and commit the audit of the cards it shows (answered, not
    raised: a raised problem rolls the transaction back, and the showing must stay on record).

    The Idempotency-Key is given back (`@idempotent` keeps no answer that is a response): the
    officer decides, then sends the registration again under the same key, and that request must
    run rather than replay this warning.
    """
    await duplicate_warnings.record_warning(session, principal, warning)
    return problem_response(
        warning.status,
        warning.slug,
        warning.title,
        warning.detail,
        request.url.path,
        **warning.extensions,
    )


@router.post("/jobseekers", status_code=201, response_model=PersonRead)
@idempotent
async def register_jobseeker(
    body: PersonCreate,
    request: Request,
    session: SessionDep,
    principal: Staff,
) -> Answer[PersonRead] | JSONResponse:
    """Register a jobseeker. Send an `Idempotency-Key` so a retry never registers twice.

    409 `duplicate-document` when an identity document is already registered (with the
    existing id); 409 `probable-duplicate` with scored candidates, each with an identity card
    (names, birth date, registering office) and the actions that fit it (open; or, for someone
    of another province, record a visit here or take the record over), unless
    `confirm_not_duplicate` is true ("not them", recorded with the new person). `consents`
    records the answers given at the counter with the registration.
    """
    return await _register(body, request, session, principal, as_jobseeker=True)


@router.post("/people", status_code=201, response_model=PersonRead)
@idempotent
async def register_person(
    body: PersonCreate,
    request: Request,
    session: SessionDep,
    principal: Staff,
) -> Answer[PersonRead] | JSONResponse:
    """Register a person who is not (yet) looking for work here, e.g. a prospective migrant.

    Send `jobseeker` in the body to register them as a jobseeker too.
    """
    as_jobseeker = body.jobseeker is not None
    return await _register(body, request, session, principal, as_jobseeker=as_jobseeker)


@router.post("/people/duplicate-check", response_model=DuplicateCheck)
@idempotent
async def duplicate_check(
    body: PersonCreate, session: SessionDep, principal: Staff
) -> Answer[DuplicateCheck]:
    """What registering this person would find, without registering (no person is written).

    409 `duplicate-document` for a known identity document, as registration would answer.
    """
    found = await duplicate_warnings.check_duplicates(session, body)
    shown = await duplicate_warnings.candidate_cards(session, found, principal)
    await duplicate_warnings.record_warning(
        session, principal, duplicate_warnings.ProbableDuplicate("duplicate check", cards=shown)
    )
    candidates = [
        DuplicateCandidate.model_validate({**c.summary, "card": card})
        for c, card in zip(found, shown, strict=True)
    ]
    return Answer(200, DuplicateCheck(candidates=candidates))


@router.get("/people", response_model=PersonPage)
async def list_people(
    session: SessionDep,
    principal: Staff,
    q: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=100,
            description="A name, in Lao script or Latin letters (your scope only), or what the "
            "person carries: their reference (P-9MLWWRAD), phone number in any usual form, or "
            "identity document number (every province; cards for people outside your scope)",
        ),
    ] = None,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
    office_code: Annotated[str | None, Query(max_length=20)] = None,
    status: JobseekerState | None = None,
    sex: Sex | None = None,
    age_band: AgeBand | None = None,
    occupation: Annotated[str | None, Query(description="ISCO-08 code at any level")] = None,
    migration_status: MigrationState | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PersonPage:
    """People of the caller's province and those their office serves (national roles: all),
    newest first, one page at a time."""
    if occupation is not None:
        try:
            occupation = validate_isco08(occupation)
        except ValueError as exc:
            raise InvalidField("occupation", str(exc)) from exc
    filters = search.Filters(
        office_code=office_code,
        province_code=province_code.upper() if province_code else None,
        jobseeker_status=status,
        sex=sex,
        age_band=age_band,
        occupation=occupation,
        migration_status=migration_status,
        q=q,
    )
    items, next_cursor, cards = await search.list_people(
        session, filters, principal, cursor=cursor, limit=limit
    )
    return PersonPage(items=items, next_cursor=next_cursor, cards=cards)


@router.get("/people/{person_id}", response_model=PersonRead)
async def get_person(
    person_id: PersonId,
    session: SessionDep,
    principal: Staff,
    response: Response,
    reason: Annotated[
        str | None, Query(max_length=500, description="Why, for the audit trail")
    ] = None,
) -> PersonRead:
    """The whole record; a merged-away id answers with the survivor's record."""
    person = await records.read_person(session, person_id, principal, reason=reason)
    response.headers["ETag"] = etag(person.version)
    return person


@router.get(
    "/people/{person_id}/slip.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The slip, one page"}},
)
async def registration_slip(person_id: PersonId, session: SessionDep, principal: Staff) -> Response:
    """The registration slip to print and hand to the person, Lao first then English: their
    reference (large, and as a QR code), name in both scripts, registering office, date and
    what happens next. Audited like a read."""
    reference, pdf = await slip_printing.print_slip(session, person_id, principal)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="slip-{reference}.pdf"'},
    )


@router.patch("/people/{person_id}", response_model=PersonRead)
async def update_person(
    person_id: PersonId,
    body: PersonUpdate,
    session: SessionDep,
    principal: Staff,
    settings: SettingsDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PersonRead:
    """Change the fields sent. Send `If-Match` with the ETag read so no one's edit is lost."""
    person = await updating.update_person(
        session,
        person_id,
        body,
        principal,
        expected_version=parse_if_match(if_match),
        minimum_age=settings.registry_min_age_jobseeker,
    )
    response.headers["ETag"] = etag(person.version)
    return await records.to_read(session, person)


@router.post("/people/{person_id}/merge", response_model=PersonRead)
@idempotent
async def merge(
    person_id: PersonId,
    body: MergeIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[PersonRead]:
    """Fold `duplicate_id` into this record; the duplicate's id then leads here."""
    survivor = await lifecycle.merge(
        session, person_id, body.duplicate_id, principal, reason=body.reason
    )
    return Answer(200, await records.to_read(session, survivor))


@router.post("/people/{person_id}/erasure", response_model=Erased)
@idempotent
async def erase(
    person_id: PersonId,
    body: ErasureIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[Erased]:
    """Erase the person's personal data on their request; every service is told to purge."""
    person = await lifecycle.erase(session, person_id, principal, reason=body.reason)
    return Answer(200, Erased(id=person.id, record_status=person.record_status))
