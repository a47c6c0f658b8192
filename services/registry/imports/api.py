"""HTTP route for bulk imports of registrations collected offline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.registry.imports import service
from services.registry.imports.schemas import ImportReport
from services.registry.keys.api import PublishingNoted
from services.registry.offices.api import Staff
from shared.app import SettingsDep
from shared.db import SessionDep
from shared.http_limits import UPLOAD
from shared.idempotency import Answer, idempotent
from shared.problems import InvalidField, Problem

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(prefix="/v1/imports", tags=["imports"], dependencies=[PublishingNoted])

MAX_BYTES = 5 * 1024 * 1024
# An upload: its body may be up to LABOURX_MAX_UPLOAD_BYTES (shared/http_limits.py).
CSV_BODY = {
    **UPLOAD,
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    },
}


class TooLarge(Problem):
    status, slug, title = 413, "too-large", "File too large"


async def _csv_file(request: Request) -> bytes:
    """The uploaded file, refused before any idempotent replay (a dependency runs first), as
    when the route checked it ahead of the replay itself."""
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise InvalidField("Content-Type", "send the file as text/csv")
    content = await request.body()
    if len(content) > MAX_BYTES:
        raise TooLarge(f"the file is over {MAX_BYTES // 1024 // 1024} MB; split it")
    return content


@router.post("", status_code=201, response_model=ImportReport, openapi_extra=CSV_BODY)
@idempotent
async def import_csv(
    session: SessionDep,
    principal: Staff,
    settings: SettingsDep,
    # After the caller's checks, as before: a stranger's upload is a 401 whatever its type.
    content: Annotated[bytes, Depends(_csv_file)],
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> Answer[ImportReport]:
    """Register the rows of a CSV file (`Content-Type: text/csv`, UTF-8, header row first).

    Answers a report per row: created, already_imported (an earlier upload created it),
    duplicate (identity document known), probable_duplicate (with candidates; set the
    `confirm_not_duplicate` column to yes after checking) or error (naming the columns).
    """
    report = await service.import_file(
        session,
        content,
        principal,
        filename=filename,
        minimum_age=settings.registry_min_age_jobseeker,
    )
    return Answer(201, report)
