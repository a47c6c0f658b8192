"""Bulk import: every row registered on its own savepoint, reported row by row."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import insert, select

from services.registry.imports.domain import Row, column_named, column_of, read_rows
from services.registry.imports.models import ImportBatch, ImportedRow
from services.registry.imports.schemas import ImportReport, RowReport
from services.registry.people import duplicate_warnings
from services.registry.people.registration import register
from services.registry.people.schemas import PersonCreate
from shared.problems import Forbidden, InvalidField, InvalidFields

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal


async def import_file(
    session: AsyncSession,
    content: bytes,
    principal: Principal,
    *,
    filename: str | None,
    minimum_age: int,
) -> ImportReport:
    """Register every new row; rows seen before, duplicates and errors are reported, not saved.

    Uploading the same file again (or a re-saved copy of it) creates nothing: each row's
    content hash is recorded with the person it created.
    """
    rows = read_rows(content)
    batch = ImportBatch(
        id=uuid.uuid4(),
        file_sha256=hashlib.sha256(content).hexdigest(),
        filename=filename,
        office_code=principal.office,
        uploaded_by=principal.subject,
        summary={},
    )
    session.add(batch)
    await session.flush()
    report = [await _import_row(session, row, batch.id, principal, minimum_age) for row in rows]
    counts = Counter(r.status for r in report)
    batch.summary = {"rows": len(rows), **{str(k): v for k, v in counts.items()}}
    await session.flush()
    return ImportReport(
        batch_id=batch.id,
        file_sha256=batch.file_sha256,
        rows=len(rows),
        counts=dict(counts),
        report=report,
    )


def _name_columns(errors: list[dict[str, str]], exc: ValidationError, row: Row) -> None:
    """Add to `errors` each column of the row the validation failed on, once."""
    named = {e["field"] for e in errors}
    for error in exc.errors():
        if not error["loc"] and row.errors:
            continue  # a rule across fields (a name in some script) the row check named
        column = column_of(tuple(error["loc"]), row)
        if column not in named:
            errors.append({"field": column, "message": error["msg"]})
            named.add(column)


def _by_column(exc: InvalidField | InvalidFields, row: Row) -> list[dict[str, str]]:
    """The registration's field errors as the row's columns, the first error of each."""
    by_column: dict[str, dict[str, str]] = {}
    for error in exc.extensions["errors"]:
        column = column_named(error["field"], row)
        by_column.setdefault(column, {"field": column, "message": error["message"]})
    return list(by_column.values())


async def _import_row(
    session: AsyncSession, row: Row, batch_id: uuid.UUID, principal: Principal, minimum_age: int
) -> RowReport:
    known = await session.scalar(
        select(ImportedRow.person_id).where(ImportedRow.row_key == row.key)
    )
    if known is not None:
        return RowReport(row=row.number, status="already_imported", person_id=known)
    # Every bad cell of the row is named at once, so the officer fixes the row in one go.
    errors = list(row.errors)
    try:
        data = PersonCreate.model_validate(row.body)
    except ValidationError as exc:
        _name_columns(errors, exc, row)
    if errors:
        return RowReport(row=row.number, status="error", errors=errors)
    savepoint = await session.begin_nested()
    try:
        registration = await register(
            session, data, principal, minimum_age=minimum_age, as_jobseeker=True
        )
        await session.execute(
            insert(ImportedRow).values(
                row_key=row.key,
                person_id=registration.person_id,
                batch_id=batch_id,
                row_number=row.number,
            )
        )
    except duplicate_warnings.DocumentAlreadyRegistered as exc:
        await savepoint.rollback()
        existing = exc.extensions["existing_id"]
        return RowReport(
            row=row.number, status="duplicate", candidates=[{"id": existing, "score": 1.0}]
        )
    except duplicate_warnings.ProbableDuplicate as exc:
        await savepoint.rollback()
        # The row's person is not written, but the cards were shown: that stays on record.
        await duplicate_warnings.record_warning(session, principal, exc)
        return RowReport(
            row=row.number, status="probable_duplicate", candidates=exc.extensions["candidates"]
        )
    except (InvalidField, InvalidFields) as exc:
        await savepoint.rollback()
        return RowReport(row=row.number, status="error", errors=_by_column(exc, row))
    except Forbidden as exc:
        await savepoint.rollback()
        return RowReport(
            row=row.number,
            status="error",
            errors=[{"field": "province_code", "message": exc.detail}],
        )
    await savepoint.commit()
    return RowReport(row=row.number, status="created", person_id=registration.person_id)
