"""Completions as staff and the public read them: a person's orientation record, a certificate
for printing, and the public check of a certificate's code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.completions import domain
from services.predeparture.completions.attendance_rows import attendance_rows
from services.predeparture.completions.certificates import (
    CertificateContent,
    printed_code,
    verification_link,
)
from services.predeparture.completions.domain import Attended, CurriculumRule, Met
from services.predeparture.completions.models import Completion
from services.predeparture.completions.schemas import (
    AttendanceRecord,
    CertificateRead,
    CurriculumRef,
    DestinationProgress,
    OrientationRead,
    Verification,
)
from services.predeparture.curricula import service as curricula
from services.predeparture.curricula.models import Curriculum
from services.predeparture.learners.domain import full_name
from services.predeparture.learners.models import Learner
from services.predeparture.scope import basis_of, require_person
from shared.problems import Conflict, NotFound

if TYPE_CHECKING:
    import uuid
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal
    from shared.settings import Settings


def certificate_read(completion: Completion, today: date) -> CertificateRead:
    return CertificateRead(
        person_id=completion.person_id,
        certificate_number=completion.certificate_number,
        destination_country=completion.destination_country,
        curriculum_id=completion.curriculum_id,
        completed_on=completion.completed_on,
        valid_until=completion.valid_until,
        office_code=completion.office_code,
        state=domain.certificate_state(completion.status, completion.valid_until, today),
        withdrawn_reason=completion.withdrawn_reason,
        issued_at=completion.issued_at,
        withdrawn_at=completion.withdrawn_at,
    )


async def orientation(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, today: date
) -> OrientationRead:
    """A person's attendance, where they stand for each destination (what is missing), and
    their certificates; for staff who serve the person (403 otherwise), audited."""
    learner = await session.get(Learner, person_id)
    rows = (await attendance_rows(session, [person_id], counted_only=False)).get(person_id, [])
    certificates = (
        (
            await session.execute(
                select(Completion)
                .where(Completion.person_id == person_id)
                .order_by(Completion.issued_at)
            )
        )
        .scalars()
        .all()
    )
    if learner is None and not rows and not certificates:
        raise NotFound(f"predeparture knows no person {person_id}")
    province = learner.province_code if learner else None
    await require_person(session, principal, person_id, province)
    await audit.record(
        session,
        principal,
        Action.ORIENTATION_READ,
        [person_id],
        basis=basis_of(principal, province),
    )
    home = learner.destination_country if learner else None
    rules = await curricula.rules(session, {r.curriculum_id for r in rows})
    attended = list(rules.values())
    if not attended:
        # Nothing attended yet: show what the active curriculum asks of them.
        active = await curricula.active_curriculum(session)
        if active is not None:
            attended = list((await curricula.rules(session, [active.id])).values())
    records = [r.record for r in rows]
    # Where the person stands is what closed sessions say: an open one's roster may change.
    counted = [r.record for r in rows if r.counted]
    destinations = domain.destinations_to_check(home, attended, records) | {
        c.destination_country for c in certificates if c.status == "valid"
    }
    return OrientationRead(
        person_id=person_id,
        initials=learner.initials if learner else None,
        destination_country=home,
        destinations=[
            _progress(destination, attended, counted, today) for destination in sorted(destinations)
        ],
        attendance=[
            AttendanceRecord(
                session_id=r.session_id,
                office_code=r.record.office_code or "",
                attended_on=r.record.on,
                curriculum_code=r.record.curriculum_code,
                module_code=r.record.module_code,
                status=r.record.status,
                note=r.note,
                counted=r.counted,
            )
            for r in rows
        ],
        certificates=[certificate_read(c, today) for c in certificates],
    )


def _progress(
    destination: str, attended: list[CurriculumRule], records: list[Attended], today: date
) -> DestinationProgress:
    chosen = domain.best(attended, destination, records, today=today)
    if chosen is None:
        return DestinationProgress(destination_country=destination, complete=False)
    curriculum, outcome = chosen
    required = curriculum.required(destination)
    present = {
        r.module_code
        for r in records
        if r.status == domain.PRESENT and r.curriculum_code == curriculum.code
    }
    progress = DestinationProgress(
        destination_country=destination,
        complete=isinstance(outcome, Met),
        curriculum=CurriculumRef(
            id=curriculum.id, code=curriculum.code, version=curriculum.version
        ),
        required=list(required),
        attended=[code for code in required if code in present],
    )
    if isinstance(outcome, Met):
        progress.completed_on = outcome.completed_on
    else:
        progress.missing = list(outcome.missing)
        progress.shortfall = outcome.reason
    return progress


async def certificate_content(
    session: AsyncSession, certificate_number: str, principal: Principal, settings: Settings
) -> CertificateContent:
    """What a printed certificate shows, for staff who serve its holder (audited); a withdrawn
    certificate is not printed again."""
    completion = await session.scalar(
        select(Completion).where(Completion.certificate_number == certificate_number)
    )
    if completion is None:
        raise NotFound(f"no certificate {certificate_number}")
    learner = await session.get(Learner, completion.person_id)
    province = learner.province_code if learner else None
    await require_person(session, principal, completion.person_id, province)
    if completion.status == "withdrawn":
        raise Conflict(
            f"certificate {certificate_number} was withdrawn: {completion.withdrawn_reason}"
        )
    curriculum = await session.get(Curriculum, completion.curriculum_id)
    assert curriculum is not None
    await audit.record(
        session,
        principal,
        Action.CERTIFICATE_PRINTED,
        [completion.person_id],
        basis=basis_of(principal, province),
        reason=certificate_number,
    )
    code = printed_code(settings, completion.id, completion.verification_hash)
    return CertificateContent(
        certificate_number=completion.certificate_number,
        initials=learner.initials if learner else "",
        name_lo=full_name(learner.given_name_lo, learner.family_name_lo) if learner else "",
        name_en=full_name(learner.given_name_en, learner.family_name_en) if learner else "",
        destination_country=completion.destination_country,
        completed_on=completion.completed_on,
        valid_until=completion.valid_until,
        office_code=completion.office_code,
        curriculum_title_lo=curriculum.title_lo,
        curriculum_title_en=curriculum.title_en,
        code=code,
        link=verification_link(settings, code),
    )


async def verify(session: AsyncSession, typed: str, *, today: date) -> Verification:
    """The public check of a code. Found only by the hash of the exact code: nothing can be
    searched by prefix, number or person, and an unknown code says nothing more than that."""
    code = domain.normalise_code(typed)
    found = None
    if code is not None:
        found = (
            await session.execute(
                select(Completion, Learner.initials)
                .outerjoin(Learner, Learner.person_id == Completion.person_id)
                .where(Completion.verification_hash == domain.verification_hash(code))
            )
        ).first()
    if found is None:
        raise NotFound("no certificate has this code")
    completion, initials = found
    return Verification(
        status=domain.certificate_state(completion.status, completion.valid_until, today),
        initials=initials,
        destination_country=completion.destination_country,
        completed_on=completion.completed_on,
        valid_until=completion.valid_until,
        certificate_number=completion.certificate_number,
    )
