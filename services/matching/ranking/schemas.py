"""Ranked results as officers read them: a score, and how each criterion contributed."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from services.matching.ranking.domain import Criterion


class CriterionScore(BaseModel):
    criterion: Criterion
    value: float = Field(description="How well the criterion is met, 0 to 1")
    weight: float = Field(description="Its share of the score")
    points: float = Field(description="value * weight * 100: its part of the score")


class Exclusion(BaseModel):
    code: str = Field(description="Stable code of the hard filter, e.g. no_consent, too_young")
    detail: str


class RankedCandidate(BaseModel):
    rank: int
    person_id: uuid.UUID
    reference: str
    display_name: str
    province_code: str
    score: float = Field(description="0 to 100")
    breakdown: list[CriterionScore]


class ExcludedCandidate(BaseModel):
    person_id: uuid.UUID
    reference: str
    display_name: str
    province_code: str
    score: float = Field(description="What they would score, 0 to 100: how close they are")
    reasons: list[Exclusion] = Field(description="Every hard filter that leaves them out")


class SearchInfo(BaseModel):
    groups_searched: int = Field(description="Index lookups made before the top was certain")
    exact: bool = Field(default=True, description="The list equals a full scan's")


class CandidateList(BaseModel):
    vacancy_id: uuid.UUID
    overseas: bool
    items: list[RankedCandidate]
    excluded: list[ExcludedCandidate] | None = Field(
        default=None, description="Present when asked: people the hard filters left out, and why"
    )
    search: SearchInfo


class RankedVacancy(BaseModel):
    rank: int
    vacancy_id: uuid.UUID
    reference: str
    title: str
    kind: str
    isco08: str
    province_code: str
    destination_country: str | None
    open_positions: int
    closes_on: date | None
    score: float
    breakdown: list[CriterionScore]


class VacancyList(BaseModel):
    person_id: uuid.UUID
    items: list[RankedVacancy]
    exclusions: list[Exclusion] = Field(
        default_factory=list,
        description="Why the person cannot be matched at all (then `items` is empty)",
    )
    search: SearchInfo
