"""Matching's public API, as the console reads it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from services.console.apis.client import Api


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Referral(_Read):
    id: uuid.UUID
    vacancy_id: uuid.UUID
    person_id: uuid.UUID
    status: str
    overseas: bool
    office_code: str | None = None
    created_at: datetime
    updated_at: datetime


class Vacancy(_Read):
    id: uuid.UUID
    reference: str
    title: str
    province_code: str
    status: str


async def open_referrals(api: Api, *, limit: int = 10) -> list[Referral]:
    """Referrals still waiting for an outcome (referred, interviewed or offered)."""
    found = await api.get("matching", "/v1/referrals", {"open": "true", "limit": limit})
    return [Referral.model_validate(r) for r in found["items"]]


async def get_vacancy(api: Api, vacancy_id: uuid.UUID) -> Vacancy:
    return Vacancy.model_validate(await api.get("matching", f"/v1/vacancies/{vacancy_id}"))
