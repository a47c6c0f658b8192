"""The attendance the completion rule reads, for many people in one query: what was entered for
each of them, and whether it counts (present, in a session that was closed)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from services.predeparture.completions.domain import Attended
from shared.clock import LAO_TIME

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# Attendance counted by the rule: present, in a session that was closed (its roster final).
# A person's record also shows what was entered in sessions not closed yet, as not counted.
_ATTENDED = text(
    """
    SELECT a.person_id, a.module_code, a.status, a.note, a.session_id,
           s.starts_at, s.office_code, s.curriculum_id, c.code AS curriculum_code,
           s.status = 'closed' AS counted
    FROM attendance a
    JOIN orientation_sessions s ON s.id = a.session_id
    JOIN curricula c ON c.id = s.curriculum_id
    WHERE a.person_id = ANY(CAST(:ids AS uuid[]))
      AND s.status <> 'cancelled'
      AND ((a.status = 'present' AND s.status = 'closed') OR NOT :counted_only)
    ORDER BY s.starts_at, a.module_code
    """
)


@dataclass(frozen=True)
class AttendanceRow:
    record: Attended
    curriculum_id: uuid.UUID
    session_id: uuid.UUID
    note: str | None
    counted: bool


def _attended_on(starts_at: datetime) -> date:
    return starts_at.astimezone(LAO_TIME).date()


async def attendance_rows(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, counted_only: bool
) -> dict[uuid.UUID, list[AttendanceRow]]:
    result = await session.execute(_ATTENDED, {"ids": list(ids), "counted_only": counted_only})
    rows: dict[uuid.UUID, list[AttendanceRow]] = defaultdict(list)
    days: dict[datetime, date] = {}
    for (
        person_id,
        module,
        status,
        note,
        session_id,
        starts_at,
        office,
        curriculum_id,
        code,
        counted,
    ) in result:
        day = days.get(starts_at)
        if day is None:
            day = days[starts_at] = _attended_on(starts_at)
        record = Attended(module, status, day, code, office)
        rows[person_id].append(AttendanceRow(record, curriculum_id, session_id, note, counted))
    return rows
