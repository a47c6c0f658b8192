"""API shapes of reports: figures that may be hidden, never why."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class FigureRead(BaseModel):
    group: dict[str, str] = Field(
        description="The value of each dimension this figure counts; empty for the total"
    )
    count: int | None = Field(description="null when suppressed")
    suppressed: bool


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date


class ReportRead(BaseModel):
    report: str
    period: Period
    by: list[str] = Field(description="The dimensions, in the order asked for")
    scope: str = Field(description="`national`, or the only province counted")
    min_cell: int = Field(description="Figures of fewer people than this are suppressed")
    cells: list[FigureRead] = Field(description="One per combination of the dimensions")
    subtotals: list[FigureRead] = Field(
        description="One per combination of the leading dimensions (by=a,b,c: per a, per a,b)"
    )
    total: FigureRead
