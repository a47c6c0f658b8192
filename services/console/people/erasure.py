"""Erasing a person's record on their request, for admins: the reason, the person's reference
typed again as confirmation, the answers checked, then the erasure (every service purges)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from services.console.apis import people
from services.console.apis.errors import Rejected
from services.console.i18n import _
from services.console.people import labels
from services.console.people.record import may_administer
from services.console.people.refusals import show_refusal
from services.console.people.search import PERSON_KEY
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import OfficerPageDep, Page
from services.console.web.routing import not_found, problem_page

router = console_router()


def _refused(page: Page) -> Response:
    return problem_page(
        page,
        403,
        title=_("You cannot see this"),
        message=_("Only an administrator may erase a person's record."),
    )


@router.get("/people/{person}/erase")
async def erasure_form(person: str, page: OfficerPageDep) -> Response:
    assert page.officer is not None
    if not PERSON_KEY.match(person):
        return not_found(page)
    if not may_administer(page.officer):
        return _refused(page)
    return await _erasure_page(page, person, Form())


@router.post("/people/{person}/erase")
async def erase(person: str, page: OfficerPageDep, request: Request) -> Response:
    """`step=check` shows the answers to check; `step=confirm` erases. The typed reference must
    match at both steps: a form sent from an old tab for another person erases no one."""
    assert page.officer is not None
    if not may_administer(page.officer):
        return _refused(page)
    form = Form.from_data(await request.form())
    step = form.values.pop("step", "check")
    record = await people.get_record(page.api, person)
    typed = form.value("erase.confirm").strip().upper().replace(" ", "")
    if typed != record.reference:
        form.add_error(
            "erase.confirm",
            _("Type the person's reference exactly as shown: %(reference)s")
            % {"reference": record.reference},
        )
    if not form.value("erase.reason").strip():
        form.add_error(
            "erase.reason",
            _(
                "Say why the record is erased, for example the date and number of the person's"
                " written request."
            ),
        )
    if form.errors or step == "edit":
        return await _erasure_page(
            page, person, form, record=record, status=422 if form.errors else 200
        )
    if step != "confirm":
        return await _erasure_page(page, person, form, record=record, check=True)
    try:
        await people.erase(
            page.api,
            record.reference,
            form.value("erase.reason"),
            idempotency_key=form.idempotency_key,
        )
    except Rejected as refused:
        show_refusal(form, refused, lambda field: f"erase.{field}")
        return await _erasure_page(page, person, form, record=record, status=refused.status)
    return page.redirect(f"/people/{record.reference}?done=erased")


async def _erasure_page(
    page: Page,
    person: str,
    form: Form,
    *,
    record: people.PersonRecord | None = None,
    check: bool = False,
    status: int = 200,
) -> Response:
    record = record or await people.get_record(page.api, person)
    return page.render(
        "people/erase.html", status, person=record, form=form, check=check, labels=labels
    )
