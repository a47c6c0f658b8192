"""API shapes for bulk imports."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel

RowStatus = Literal["created", "already_imported", "duplicate", "probable_duplicate", "error"]


class RowReport(BaseModel):
    row: int
    status: RowStatus
    person_id: uuid.UUID | None = None
    errors: list[dict[str, str]] = []
    candidates: list[dict[str, Any]] = []


class ImportReport(BaseModel):
    batch_id: uuid.UUID
    file_sha256: str
    rows: int
    counts: dict[RowStatus, int]
    report: list[RowReport]
