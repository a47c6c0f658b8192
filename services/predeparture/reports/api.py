"""HTTP routes for reports: orientation completions and outreach over a period, grouped as
asked, with small figures suppressed (see `domain.protect`). Analysts and admins see national
figures; office staff see their own province's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.predeparture.reports import service
from services.predeparture.reports.domain import (
    COMPLETION_DIMENSIONS,
    NATIONAL,
    OUTREACH_DIMENSIONS,
    Figure,
    Key,
    by_errors,
    layout,
    parse_by,
    period_errors,
    protect,
)
from services.predeparture.reports.schemas import FigureRead, Period, ReportRead
from services.predeparture.scope import report_province
from shared.app import SettingsDep
from shared.auth import Principal, Reader
from shared.db import SessionDep
from shared.problems import FieldError, InvalidFields
from shared.reference.places import validate_province

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Counter = Callable[[AsyncSession, service.Scope, Sequence[str]], Awaitable[dict[Key, int]]]
From = Annotated[date, Query(alias="from", description="First day counted")]
To = Annotated[date, Query(alias="to", description="Last day counted")]
Province = Annotated[
    str | None,
    Query(max_length=6, description="Only this province (office staff: always their own)"),
]


def _by(dimensions: Sequence[str]) -> object:
    return Query(
        description=f"Dimensions to group by, comma-separated, in order: {', '.join(dimensions)}"
    )


def _figure(figure: Figure) -> FigureRead:
    return FigureRead(group=figure.group, count=figure.count, suppressed=figure.suppressed)


async def _report(
    name: str,
    count: Counter,
    allowed: Sequence[str],
    *,
    session: AsyncSession,
    principal: Principal,
    min_cell: int,
    start: date,
    end: date,
    by: str | None,
    province_code: str | None,
) -> ReportRead:
    errors = by_errors(by, allowed) + period_errors(start, end)
    if province_code is not None:
        try:
            province_code = validate_province(province_code)
        except ValueError as exc:
            errors.append(FieldError("province_code", str(exc)))
    if errors:
        raise InvalidFields(errors)
    dimensions = parse_by(by, allowed)
    province = report_province(principal, province_code)
    counts = await count(session, service.Scope(start, end, province), dimensions)
    figures = layout(dimensions, protect(counts, min_cell))
    return ReportRead(
        report=name,
        period=Period(from_=start, to=end),
        by=dimensions,
        scope=province or NATIONAL,
        min_cell=min_cell,
        cells=[_figure(f) for f in figures.cells],
        subtotals=[_figure(f) for f in figures.subtotals],
        total=_figure(figures.total),
    )


@router.get("/completions", response_model=ReportRead)
async def completions_report(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    start: From,
    end: To,
    by: Annotated[str | None, _by(COMPLETION_DIMENSIONS)] = None,
    province_code: Province = None,
) -> ReportRead:
    """People who completed orientation in the period (valid certificates dated in it; a
    withdrawn one is not counted), by office, province, sex and destination as asked."""
    return await _report(
        "completions",
        service.completion_counts,
        COMPLETION_DIMENSIONS,
        session=session,
        principal=principal,
        min_cell=settings.predeparture_report_min_cell,
        start=start,
        end=end,
        by=by,
        province_code=province_code,
    )


@router.get("/outreach", response_model=ReportRead)
async def outreach_report(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    start: From,
    end: To,
    by: Annotated[str | None, _by(OUTREACH_DIMENSIONS)] = None,
    province_code: Province = None,
) -> ReportRead:
    """People reached by outreach held in the period (the sum of the sessions' counts), by
    office, province, sex and age band as asked."""
    return await _report(
        "outreach",
        service.outreach_counts,
        OUTREACH_DIMENSIONS,
        session=session,
        principal=principal,
        min_cell=settings.predeparture_report_min_cell,
        start=start,
        end=end,
        by=by,
        province_code=province_code,
    )
