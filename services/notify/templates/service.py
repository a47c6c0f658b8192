"""Template versions: the one in use, the history, new versions, previews."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from services.notify.templates.domain import SAMPLES, sms_length, template_problems
from services.notify.templates.models import Template
from services.notify.templates.sandbox import RenderError, render
from services.notify.templates.schemas import Preview, PreviewRequest, TemplateCreate
from shared.consumer import PoisonEvent
from shared.problems import FieldError, InvalidFields, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.selectable import LateralFromClause

FALLBACK_LANGUAGE = "lo"


class TemplateMissing(PoisonEvent):
    """No template for a message: dead-lettered, replayed once an admin adds one."""


_TEMPLATES = cast("Table", Template.__table__)
S = TypeVar("S", bound=Select[Any])


def _newest(query: S, channel: ColumnElement[str] | str, language: ColumnElement[str]) -> S:
    """The template in use: for the `key` parameter and `channel`, in `language` first, then
    in Lao; the newest version of either."""
    return (
        query.where(
            _TEMPLATES.c.key == bindparam("key"),
            _TEMPLATES.c.channel == channel,
            _TEMPLATES.c.language.in_([language, FALLBACK_LANGUAGE]),
        )
        .order_by((_TEMPLATES.c.language == language).desc(), _TEMPLATES.c.version.desc())
        .limit(1)
    )


# Built once: previews look templates up by the same rule as the consumer.
_IN_USE = _newest(select(Template), bindparam("channel"), bindparam("language"))


def in_use_lateral(channel: str, language: ColumnElement[str]) -> LateralFromClause:
    """`in_use` for one channel as a lateral subquery (id, language, subject, body), for a
    statement that reads the person's language in the same row: the consumer reads a contact
    and its templates in one round trip instead of one per channel."""
    columns = (_TEMPLATES.c.id, _TEMPLATES.c.language, _TEMPLATES.c.subject, _TEMPLATES.c.body)
    return _newest(select(*columns), channel, language).lateral(f"{channel}_template")


async def in_use(session: AsyncSession, key: str, channel: str, language: str) -> Template:
    """Newest version of a template in `language`, else in Lao."""
    template = await session.scalar(_IN_USE, {"key": key, "channel": channel, "language": language})
    if template is None:
        raise TemplateMissing(f"no {channel} template {key!r} in {language} or Lao")
    return template


async def current(session: AsyncSession, key: str | None = None) -> list[Template]:
    """The version in use of every key, channel and language (or of one key)."""
    query = (
        select(Template)
        .ext(distinct_on(Template.key, Template.channel, Template.language))
        .order_by(Template.key, Template.channel, Template.language, Template.version.desc())
    )
    if key is not None:
        query = query.where(Template.key == key)
    return list((await session.scalars(query)).all())


async def history(session: AsyncSession, key: str, channel: str, language: str) -> list[Template]:
    """Every version of one template, newest first."""
    rows = list(
        (
            await session.scalars(
                select(Template)
                .where(
                    Template.key == key, Template.channel == channel, Template.language == language
                )
                .order_by(Template.version.desc())
            )
        ).all()
    )
    if not rows:
        raise NotFound(f"no {channel} template {key!r} in {language}")
    return rows


def _check(key: str, channel: str, subject: str | None, body: str) -> None:
    errors = [FieldError("body", problem) for problem in template_problems(key, body)]
    if channel == "email":
        if not subject:
            errors.append(FieldError("subject", "an email template needs a subject", "missing"))
        else:
            errors += [FieldError("subject", p) for p in template_problems(key, subject)]
    elif subject:
        errors.append(FieldError("subject", "an SMS has no subject"))
    if errors:
        raise InvalidFields(errors)


async def add_version(session: AsyncSession, body: TemplateCreate, *, by: str) -> Template:
    """Save a new version of a template; from now on messages use it."""
    _check(body.key, body.channel, body.subject, body.body)
    # Serialise writers of the same template so two admins cannot both take version n+1.
    await session.execute(
        select(
            func.pg_advisory_xact_lock(func.hashtext(f"{body.key}/{body.channel}/{body.language}"))
        )
    )
    latest = await session.scalar(
        select(func.max(Template.version)).where(
            Template.key == body.key,
            Template.channel == body.channel,
            Template.language == body.language,
        )
    )
    template = Template(
        key=body.key,
        channel=body.channel,
        language=body.language,
        version=(latest or 0) + 1,
        subject=body.subject,
        body=body.body,
        created_by=by,
    )
    session.add(template)
    await session.flush()
    return template


async def preview(session: AsyncSession, request: PreviewRequest) -> Preview:
    """Render a template (the one in use, or the text given) with sample or given values."""
    subject, body = request.subject, request.body
    if body is None:
        template = await in_use(session, request.key, request.channel, request.language)
        subject, body = template.subject, template.body
    _check(request.key, request.channel, subject, body)
    values = SAMPLES[request.key] | request.values
    # The values given may not render where the samples did (a number where text was expected,
    # a longer text): each field's failure is named, both at once.
    rendered: dict[str, str | None] = {"body": None, "subject": None}
    errors: list[FieldError] = []
    for field, text in (("body", body), ("subject", subject)):
        if text:
            try:
                rendered[field] = render(text, values)
            except RenderError as error:
                errors.append(FieldError(field, f"does not render with these values: {error}"))
    if errors:
        raise InvalidFields(errors)
    text = rendered["body"] or ""
    length = sms_length(text)
    return Preview(
        key=request.key,
        channel=request.channel,
        language=request.language,
        subject=rendered["subject"],
        text=text,
        characters=len(text),
        encoding=length.encoding,
        units=length.units,
        segments=length.segments if request.channel == "sms" else None,
        characters_per_segment=length.per_segment if request.channel == "sms" else None,
    )
