"""Curriculum operations: list and read versions, add a draft version, activate it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from services.predeparture.completions.domain import CurriculumRule, ModuleRule
from services.predeparture.curricula.domain import (
    CurriculumStatus,
    ModuleDraft,
    check_activation,
    check_modules,
    status_order,
)
from services.predeparture.curricula.models import Curriculum, CurriculumModule
from services.predeparture.curricula.schemas import (
    CurriculumCreate,
    CurriculumRead,
    CurriculumSummary,
    ModuleRead,
)
from shared.db import clock_now
from shared.problems import Conflict, InvalidFields, NotFound
from shared.unique import add_unique

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession


async def list_curricula(session: AsyncSession) -> list[Curriculum]:
    """Every version: active ones first, then drafts, then retired; newest version first."""
    rows = (await session.execute(select(Curriculum))).scalars().all()
    return sorted(rows, key=lambda c: (status_order(c.status), c.code, -c.version))


async def get_curriculum(session: AsyncSession, curriculum_id: uuid.UUID) -> Curriculum:
    curriculum = await session.get(Curriculum, curriculum_id)
    if curriculum is None:
        raise NotFound(f"no curriculum {curriculum_id}")
    return curriculum


async def modules_of(session: AsyncSession, curriculum_id: uuid.UUID) -> list[CurriculumModule]:
    query = (
        select(CurriculumModule)
        .where(CurriculumModule.curriculum_id == curriculum_id)
        .order_by(CurriculumModule.position)
    )
    return list((await session.execute(query)).scalars())


async def read(session: AsyncSession, curriculum: Curriculum) -> CurriculumRead:
    modules = await modules_of(session, curriculum.id)
    return CurriculumRead(
        **CurriculumSummary.model_validate(curriculum).model_dump(),
        modules=[ModuleRead.model_validate(m) for m in modules],
        destinations=sorted({d for m in modules for d in m.destinations}),
    )


async def create_version(session: AsyncSession, body: CurriculumCreate, *, by: str) -> Curriculum:
    """A new draft version of `body.code`, numbered after the code's last version."""
    errors = check_modules([ModuleDraft(m.code, m.mandatory, m.destinations) for m in body.modules])
    if errors:
        raise InvalidFields(errors)
    last = await session.scalar(
        select(func.max(Curriculum.version)).where(Curriculum.code == body.code)
    )
    curriculum = Curriculum(
        id=uuid.uuid4(),
        code=body.code,
        version=(last or 0) + 1,
        title_lo=body.title_lo,
        title_en=body.title_en,
        completion_window_months=body.completion_window_months,
        validity_months=body.validity_months,
        status=CurriculumStatus.DRAFT,
        created_by=by,
        created_at=await clock_now(session),
    )
    # Two admins adding a version of the same code at once: the second retries.
    created_meanwhile = Conflict(
        f"version {curriculum.version} of {body.code} was created meanwhile; send it again",
        field="code",
    )
    await add_unique(session, curriculum, conflict=created_meanwhile)
    session.add_all(
        CurriculumModule(
            id=uuid.uuid4(),
            curriculum_id=curriculum.id,
            code=m.code,
            position=i,
            title_lo=m.title_lo,
            title_en=m.title_en,
            description_en=m.description_en,
            hours=m.hours,
            mandatory=m.mandatory,
            destinations=list(m.destinations),
        )
        for i, m in enumerate(body.modules)
    )
    await session.flush()
    return curriculum


async def activate(session: AsyncSession, curriculum_id: uuid.UUID) -> Curriculum:
    """Make a draft version the active one of its code; the version active until now retires.

    Sessions and completions keep naming the version they used, so retiring changes no record.
    """
    curriculum = await session.get(Curriculum, curriculum_id, with_for_update=True)
    if curriculum is None:
        raise NotFound(f"no curriculum {curriculum_id}")
    if not check_activation(curriculum.status):
        return curriculum
    await session.execute(
        update(Curriculum)
        .where(Curriculum.code == curriculum.code, Curriculum.status == CurriculumStatus.ACTIVE)
        .values(status=CurriculumStatus.RETIRED)
        .execution_options(synchronize_session=False)
    )
    curriculum.status = CurriculumStatus.ACTIVE
    activated_meanwhile = Conflict(
        f"another version of {curriculum.code} was activated meanwhile; try again"
    )
    await add_unique(session, conflict=activated_meanwhile)
    return curriculum


async def active_curriculum(session: AsyncSession, code: str = "PDO") -> Curriculum | None:
    return await session.scalar(
        select(Curriculum).where(
            Curriculum.code == code, Curriculum.status == CurriculumStatus.ACTIVE
        )
    )


async def rules(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, CurriculumRule]:
    """The completion rules of the given versions, with their modules, in two queries."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    curricula = (
        (await session.execute(select(Curriculum).where(Curriculum.id.in_(wanted)))).scalars().all()
    )
    modules = (
        await session.execute(
            select(CurriculumModule)
            .where(CurriculumModule.curriculum_id.in_(wanted))
            .order_by(CurriculumModule.curriculum_id, CurriculumModule.position)
        )
    ).scalars()
    by_curriculum: dict[uuid.UUID, list[ModuleRule]] = {c.id: [] for c in curricula}
    for m in modules:
        by_curriculum[m.curriculum_id].append(
            ModuleRule(m.code, m.mandatory, frozenset(m.destinations))
        )
    return {
        c.id: CurriculumRule(
            id=c.id,
            code=c.code,
            version=c.version,
            window_months=c.completion_window_months,
            validity_months=c.validity_months,
            modules=tuple(by_curriculum[c.id]),
        )
        for c in curricula
    }
