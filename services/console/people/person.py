"""A person's page and what an officer does on it: consents, jobseeker status, migration records,
the registration slip. Each form posts here, and a refusal shows the page again with the form
as it was typed and the registry's reasons beside its fields.

Every form of the page names its fields with a prefix of its own (`status.reason`,
`consent.witness_name`): one page, several forms, and each field's id unique.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import Query as Q
from fastapi import Request
from starlette.responses import Response

from services.console.apis import files, people
from services.console.apis.errors import NotAllowed, NotFound, Rejected
from services.console.i18n import _
from services.console.people import labels, lifecycle
from services.console.people.display import (
    DESTINATIONS,
    country_name,
    district_name,
    phone_as_written,
)
from services.console.people.record import PersonView, gather, may_administer
from services.console.people.refusals import show_refusal
from services.console.people.search import PERSON_KEY
from services.console.web.api import console_router
from services.console.web.forms import WHOLE_FORM, Form
from services.console.web.page import OfficerPageDep, Page
from services.console.web.routing import not_found
from shared.reference.occupations import occupation

router = console_router()

Text = Annotated[str | None, Q(max_length=100)]

Done = Literal[
    "registered", "consent", "status", "migration", "documents", "visit", "transfer", "erased"
]


def values_of(form: Form, prefix: str) -> dict[str, str]:
    """The fields of one form of the page, without its prefix, as typed (empty ones left out:
    the registry then names what is missing)."""
    start = prefix + "."
    return {
        name[len(start) :]: value.strip()
        for name, value in form.values.items()
        if name.startswith(start) and value.strip()
    }


async def person_view(page: Page, person: str, audit_before: int | None = None) -> PersonView:
    assert page.officer is not None
    return await gather(page.api, person, page.officer, audit_before=audit_before)


async def show(
    page: Page,
    person: str,
    *,
    status: int = 200,
    forms: Mapping[str, Form] | None = None,
    done: str | None = None,
    audit_before: int | None = None,
) -> Response:
    """The person's page; `forms` are the page's forms as typed (the others are shown blank)."""
    if not PERSON_KEY.match(person):
        return not_found(page)
    try:
        view = await person_view(page, person, audit_before)
    except NotAllowed:
        from services.console.people.serving import outside_scope

        return await outside_scope(page, person)
    except Rejected as refused:
        if refused.status == 410:
            return page.render("people/erased.html", 410, reference=person, done=done)
        if refused.status in (400, 422):  # the registry's word that this is no reference
            return not_found(page)
        raise
    assert page.officer is not None
    shown = {name: Form() for name in ("consent", "status", "open_migration")}
    for migration in view.migrations.value or []:
        shown[f"move-{migration.id}"] = Form()
        shown[f"docs-{migration.id}"] = Form()
    shown.update(forms or {})
    record = view.person
    return page.render(
        "people/person.html",
        status,
        view=view,
        person=record,
        page_forms=shown,
        done=done,
        labels=labels,
        lifecycle=lifecycle,
        admin=may_administer(page.officer),
        district=district_name(record.district, record.province_code, page.language),
        occupation=occupation,
        country_name=country_name,
        phone=phone_as_written(record.phone),
        destinations=DESTINATIONS,
    )


@router.get("/people/{person}")
async def person_page(
    person: str,
    page: OfficerPageDep,
    done: Done | None = None,
    audit_before: Annotated[int | None, Q(ge=1)] = None,
) -> Response:
    """A person's page: their record and what can be done about them."""
    return await show(page, person, done=done, audit_before=audit_before)


@router.get("/people/{person}/slip.pdf")
async def registration_slip(person: str, page: OfficerPageDep) -> Response:
    """The registration slip to print, streamed from the registry with the officer's token."""
    if not PERSON_KEY.match(person):
        return not_found(page)
    try:
        return await files.stream(
            page.api, "registry", f"/v1/people/{person}/slip.pdf", accept="application/pdf"
        )
    except NotFound:
        return not_found(page)


@router.post("/people/{person}/consents")
async def record_consent(person: str, page: OfficerPageDep, request: Request) -> Response:
    """Record the person's decision for one purpose (agreed, refused, agreed again)."""
    form = Form.from_data(await request.form())
    typed = values_of(form, "consent")
    decision: dict[str, Any] = {
        k: typed[k]
        for k in ("purpose", "status", "method", "witness_name", "expires_on", "note")
        if k in typed
    }
    partner = typed.get("partner", "")
    if partner:
        kind = "category" if partner in labels.PARTNER_CATEGORIES else "agency"
        decision["scope"] = {kind: partner}
    return await _send(
        page,
        person,
        form,
        "consent",
        people.record_consent(page.api, person, decision, idempotency_key=form.idempotency_key),
        names={"scope": "partner", "scope.agency": "partner", "scope.category": "partner"},
        done="consent",
        conflict_field="status",
    )


@router.get("/people/{person}/consents/withdraw")
async def withdrawal_form(
    person: str, page: OfficerPageDep, purpose: Text = None, partner: Text = None
) -> Response:
    """The person takes back a consent in force: how they said so, and who saw it."""
    if not PERSON_KEY.match(person):
        return not_found(page)
    form = Form(values={"withdraw.purpose": purpose or "", "withdraw.partner": partner or ""})
    return await _withdrawal_page(page, person, form)


@router.post("/people/{person}/consents/withdraw")
async def withdraw_consent(person: str, page: OfficerPageDep, request: Request) -> Response:
    form = Form.from_data(await request.form())
    typed = values_of(form, "withdraw")
    decision: dict[str, Any] = {"status": "withdrawn"}
    decision.update(
        {k: typed[k] for k in ("purpose", "method", "witness_name", "note") if k in typed}
    )
    if partner := typed.get("partner"):
        kind = "category" if partner in labels.PARTNER_CATEGORIES else "agency"
        decision["scope"] = {kind: partner}
    try:
        await people.record_consent(
            page.api, person, decision, idempotency_key=form.idempotency_key
        )
    except Rejected as refused:
        if refused.status == 409 and not refused.field_problems:
            form.add_error("withdraw.method", _conflict(refused), refused.detail or None)
        else:
            show_refusal(form, refused, lambda field: f"withdraw.{field}")
        return await _withdrawal_page(page, person, form, status=refused.status)
    return page.redirect(f"/people/{person}?done=consent#consents")


async def _withdrawal_page(page: Page, person: str, form: Form, status: int = 200) -> Response:
    record = await people.get_record(page.api, person)
    return page.render("people/withdraw.html", status, person=record, form=form, labels=labels)


@router.post("/people/{person}/status")
async def change_status(person: str, page: OfficerPageDep, request: Request) -> Response:
    """Move the jobseeker to one of the statuses their current one allows."""
    form = Form.from_data(await request.form())
    typed = values_of(form, "status")
    return await _send(
        page,
        person,
        form,
        "status",
        _status_change(page, person, typed, form.idempotency_key),
        done="status",
        conflict_field="status",
    )


async def _status_change(page: Page, person: str, typed: dict[str, str], key: str) -> None:
    body = {k: typed[k] for k in ("status", "reason") if k in typed}
    await page.api.send(
        "POST", "registry", f"/v1/people/{person}/jobseeker/status", json=body, idempotency_key=key
    )


@router.post("/people/{person}/migrations")
async def open_migration(person: str, page: OfficerPageDep, request: Request) -> Response:
    """Open a migration record (prospective): where to, by which channel."""
    form = Form.from_data(await request.form())
    typed = values_of(form, "open_migration")
    return await _send(
        page,
        person,
        form,
        "open_migration",
        people.open_migration(page.api, person, typed, idempotency_key=form.idempotency_key),
        done="migration",
        conflict_field="destination_country",
    )


@router.post("/people/{person}/migrations/{migration_id}/status")
async def change_migration(
    person: str, migration_id: uuid.UUID, page: OfficerPageDep, request: Request
) -> Response:
    """Move a migration record to a status its current one allows, with what that needs."""
    form = Form.from_data(await request.form())
    prefix = f"move-{migration_id}"
    typed: dict[str, Any] = values_of(form, prefix)
    if "skills_gained" in typed:
        typed["skills_gained"] = [s.strip() for s in typed["skills_gained"].split(",") if s.strip()]
    return await _send(
        page,
        person,
        form,
        prefix,
        people.change_migration_status(
            page.api, migration_id, typed, idempotency_key=form.idempotency_key
        ),
        done="migration",
        conflict_field="status",
    )


@router.post("/people/{person}/migrations/{migration_id}/documents")
async def update_documents(
    person: str, migration_id: uuid.UUID, page: OfficerPageDep, request: Request
) -> Response:
    """Record new or renewed travel and work documents of a migration record."""
    form = Form.from_data(await request.form())
    prefix = f"docs-{migration_id}"
    typed: dict[str, Any] = values_of(form, prefix)
    if "permit_extended" in typed:
        typed["permit_extended"] = typed["permit_extended"] == "yes"
    return await _send(
        page,
        person,
        form,
        prefix,
        people.update_migration_documents(page.api, migration_id, typed),
        done="documents",
        conflict_field=WHOLE_FORM,
    )


async def _send(
    page: Page,
    person: str,
    form: Form,
    prefix: str,
    call: Any,
    *,
    done: str,
    conflict_field: str,
    names: Mapping[str, str] | None = None,
) -> Response:
    """Make the call; on a refusal, the page again with this form as typed and the reasons
    beside its fields (a 409 — a change the record's state does not allow — beside
    `conflict_field`)."""
    try:
        await call
    except Rejected as refused:
        if refused.status == 409 and not refused.field_problems:
            name = conflict_field if conflict_field == WHOLE_FORM else f"{prefix}.{conflict_field}"
            form.add_error(name, _conflict(refused), refused.detail or None)
        else:
            show_refusal(
                form,
                refused,
                lambda field: f"{prefix}.{(names or {}).get(field, field)}",
            )
        return await show(page, person, status=refused.status, forms={prefix: form})
    return page.redirect(f"/people/{person}?done={done}#{_anchor(prefix)}")


def _conflict(refused: Rejected) -> str:
    """A change the record's state does not allow, said as the officer would."""
    current = refused.problem.get("current_status")
    if "existing_id" in refused.problem:
        return _("This person already has a migration record that is not closed.")
    if current is not None or "cannot become" in refused.detail:
        return _(
            "This change is not possible from the record's status now. Reload the page: someone"
            " may have changed it."
        )
    return _("This was not accepted.")


def _anchor(prefix: str) -> str:
    if prefix == "consent":
        return "consents"
    if prefix == "status":
        return "jobseeker"
    return "migration"
