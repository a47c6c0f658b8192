"""Reading vacancies: one the actor may see or change, and pages of those they may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, select

from services.matching.vacancies.models import Vacancy
from services.matching.vacancies.schemas import VacancyRead
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import NotFound

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor


def to_read(vacancy: Vacancy) -> VacancyRead:
    return VacancyRead.model_validate(vacancy)


async def _vacancy(session: AsyncSession, vacancy_id: uuid.UUID, lock: bool) -> Vacancy:
    # `lock` holds the row until the transaction ends, so that changes are made one at a time.
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update=lock, populate_existing=lock)
    if vacancy is None:
        raise NotFound(f"no vacancy {vacancy_id}")
    return vacancy


async def get_vacancy(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Vacancy:
    """A vacancy the actor may read: any published one (the job bank is national), a draft only
    its province's staff and its agency; 404 when unknown, 403 otherwise."""
    vacancy = await _vacancy(session, vacancy_id, lock)
    actor.require_vacancy(
        province_code=vacancy.province_code,
        agency_id=vacancy.agency_id,
        published_at=vacancy.published_at,
    )
    return vacancy


async def get_own_vacancy(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Vacancy:
    """A vacancy of the actor's side, to change it or read what belongs to that side (a demand
    letter's name list and costs): staff of its province, or its agency; 403 for others."""
    vacancy = await _vacancy(session, vacancy_id, lock)
    actor.require(province_code=vacancy.province_code, agency_id=vacancy.agency_id)
    return vacancy


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    province_code: str | None = None
    agency_id: uuid.UUID | None = None
    employer_id: uuid.UUID | None = None
    isco08: str | None = None


def _conditions(filters: Filters, actor: Actor) -> list[ColumnElement[bool]]:
    conditions = [actor.vacancies(Vacancy.province_code, Vacancy.agency_id, Vacancy.published_at)]
    conditions += equal_if_given(
        Vacancy,
        status=filters.status,
        kind=filters.kind,
        province_code=filters.province_code,
        agency_id=filters.agency_id,
        employer_id=filters.employer_id,
    )
    if filters.isco08 is not None:
        conditions.append(Vacancy.isco08.startswith(filters.isco08))
    return conditions


async def list_vacancies(
    session: AsyncSession, filters: Filters, actor: Actor, *, cursor: str | None, limit: int
) -> tuple[list[Vacancy], str | None]:
    """A page of the vacancies the actor may see, newest first, and the next page's cursor."""
    query = select(Vacancy).where(and_(*_conditions(filters, actor)))
    query = newest_first(query, (Vacancy.created_at, Vacancy.id), after=cursor, limit=limit)
    rows = (await session.scalars(query)).all()
    return page_of(rows, limit, lambda v: (v.created_at, v.id))
