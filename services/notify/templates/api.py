"""HTTP routes for templates: office staff read them, admins add versions, anyone who may edit
can preview a draft with its SMS length before saving it."""

from __future__ import annotations

from fastapi import APIRouter

from services.notify.templates import service
from services.notify.templates.schemas import (
    Channel,
    Key,
    Language,
    Preview,
    PreviewRequest,
    TemplateCreate,
    TemplateList,
    TemplateRead,
)
from shared.auth import Admin, OfficeStaff
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

router = APIRouter(prefix="/v1/templates", tags=["templates"])


@router.get("", response_model=TemplateList)
async def list_templates(
    session: SessionDep, _: OfficeStaff, key: Key | None = None
) -> TemplateList:
    """The version in use of every template (or of one key)."""
    rows = await service.current(session, key)
    return TemplateList(items=[TemplateRead.model_validate(t) for t in rows])


@router.get("/{key}/{channel}/{language}/versions", response_model=TemplateList)
async def list_versions(
    key: Key, channel: Channel, language: Language, session: SessionDep, _: OfficeStaff
) -> TemplateList:
    """Every version of one template, newest (in use) first."""
    rows = await service.history(session, key, channel, language)
    return TemplateList(items=[TemplateRead.model_validate(t) for t in rows])


@router.post("", status_code=201, response_model=TemplateRead)
@idempotent
async def add_version(
    body: TemplateCreate, session: SessionDep, admin: Admin
) -> Answer[TemplateRead]:
    """A new version of a template; messages queued from now on use it."""
    template = await service.add_version(session, body, by=admin.subject)
    return Answer(201, TemplateRead.model_validate(template))


@router.post("/preview", response_model=Preview)
async def preview(body: PreviewRequest, session: SessionDep, _: Admin) -> Preview:
    """The text a template gives, its SMS encoding and how many parts a gateway bills."""
    return await service.preview(session, body)
