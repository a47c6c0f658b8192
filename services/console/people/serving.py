"""Serving a person of another province: their identity card (all an officer may see of them),
a visit recorded here (the office then serves them), or the record taken over (they moved
here), the latter after checking the answers."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from services.console.apis import people
from services.console.apis.errors import Rejected
from services.console.i18n import _
from services.console.people import labels
from services.console.people.refusals import show_refusal
from services.console.people.search import PERSON_KEY
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import OfficerPageDep, Page
from services.console.web.routing import not_allowed, not_found

router = console_router()


async def outside_scope(
    page: Page, person: str, *, visit: Form | None = None, status: int = 403
) -> Response:
    """The card of someone the officer may not open, with what they may do about them."""
    card = await people.card_of(page.api, person) if person.upper().startswith("P-") else None
    if card is None:
        return not_allowed(page)
    return page.render(
        "people/outside.html", status, card=card, visit=visit or Form(), labels=labels
    )


@router.get("/people/{person}/visit")
async def visit_form(person: str, page: OfficerPageDep) -> Response:
    if not PERSON_KEY.match(person):
        return not_found(page)
    return await outside_scope(page, person, status=200)


@router.post("/people/{person}/visit")
async def record_visit(person: str, page: OfficerPageDep, request: Request) -> Response:
    """This is them, here for a service: the officer's office serves them from now on."""
    form = Form.from_data(await request.form())
    try:
        await people.record_visit(
            page.api, person, form.value("visit.reason"), idempotency_key=form.idempotency_key
        )
    except Rejected as refused:
        show_refusal(form, refused, lambda field: f"visit.{field}")
        return await outside_scope(page, person, visit=form, status=refused.status)
    return page.redirect(f"/people/{person}?done=visit")


@router.get("/people/{person}/take-over")
async def take_over_form(person: str, page: OfficerPageDep) -> Response:
    if not PERSON_KEY.match(person):
        return not_found(page)
    return await _take_over_page(page, person, Form())


@router.post("/people/{person}/take-over")
async def take_over(person: str, page: OfficerPageDep, request: Request) -> Response:
    """The person moved here: their record moves to the officer's office and province. First
    the officer's answers are shown to check (`step=check`), then it is done (`step=confirm`)."""
    form = Form.from_data(await request.form())
    step = form.values.pop("step", "check")
    if not form.value("transfer.reason").strip():
        form.add_error("transfer.reason", _("Say why the record moves here."))
        return await _take_over_page(page, person, form, status=422)
    if step == "edit":
        return await _take_over_page(page, person, form)
    if step != "confirm":
        return await _take_over_page(page, person, form, check=True)
    try:
        await people.take_over(
            page.api, person, form.value("transfer.reason"), idempotency_key=form.idempotency_key
        )
    except Rejected as refused:
        if refused.status == 409:
            form.add_error("transfer.reason", _("The record is at your office already."))
        else:
            show_refusal(form, refused, lambda field: f"transfer.{field}")
        return await _take_over_page(page, person, form, status=refused.status)
    return page.redirect(f"/people/{person}?done=transfer")


async def _take_over_page(
    page: Page, person: str, form: Form, *, check: bool = False, status: int = 200
) -> Response:
    card = await people.card_of(page.api, person) if person.upper().startswith("P-") else None
    return page.render(
        "people/take_over.html",
        status,
        person=person,
        card=card,
        form=form,
        check=check,
        labels=labels,
    )
