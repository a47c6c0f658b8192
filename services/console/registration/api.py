"""Register a jobseeker: one form in the order of the interview, the duplicate check as the
officer types (htmx), and the same checks as plain form posts without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query as Q
from fastapi import Request
from starlette.responses import Response

from services.console.apis import people
from services.console.apis.errors import NotAllowed, Rejected
from services.console.i18n import _
from services.console.people import labels
from services.console.people.refusals import show_refusal
from services.console.registration import form as fields
from services.console.web.api import console_router
from services.console.web.forms import WHOLE_FORM, Error, Form
from services.console.web.page import OfficerPageDep, Page
from shared.reference.districts import districts_of
from shared.reference.places import PROVINCE_NAMES

router = console_router()

Text = Annotated[str | None, Q(max_length=200)]
DUPLICATES = "duplicates"  # the form's "field" for the candidates panel (its id: f-duplicates)
SEEN = "duplicates_seen"  # the ids of the candidates shown, for "not the same person"


@router.get("/register")
async def registration_form(page: OfficerPageDep) -> Response:
    assert page.officer is not None
    form = Form(
        values={"province_code": page.officer.province_code or "", "consent_method": "signed"}
    )
    return _render(page, form)


@router.post("/register")
async def register(page: OfficerPageDep, request: Request) -> Response:
    form = Form.from_data(await request.form())
    action = form.values.pop("action", "register")
    if action != "register":
        # Without JavaScript: show the districts of the province chosen, or the occupations
        # matching what was typed, and nothing is sent.
        return _render(page, form)
    built = fields.registration(form.values)
    for name, message in built.errors.items():
        form.add_error(name, _(message))
    if form.errors:
        return _render(page, form, status=422)
    if built.body.get("confirm_not_duplicate"):
        unseen = await _unseen_candidates(page, form, built.body)
        if unseen:
            form.values.pop("confirm_not_duplicate", None)
            form.add_error(
                DUPLICATES,
                _(
                    "Other people registered now look like this person too. Check them before"
                    " confirming that it is not them."
                ),
            )
            return _render(page, form, status=409, candidates=unseen)
    try:
        person = await people.register(page.api, built.body, idempotency_key=form.idempotency_key)
    except NotAllowed:
        form.add_error("province_code", _("You can register people of your own province only."))
        return _render(page, form, status=403)
    except Rejected as refused:
        if refused.slug == "probable-duplicate":
            candidates = _candidates(refused.problem)
            form.add_error(
                DUPLICATES,
                _(
                    "This person may be registered already. Check the people shown: open their"
                    " record if it is them, or confirm that it is not them and register again."
                ),
            )
            return _render(page, form, status=409, candidates=candidates)
        _show(form, refused, built)
        return _render(page, form, status=refused.status)
    return page.redirect(f"/people/{person.reference}?done=registered")


@router.post("/register/check")
async def duplicate_check(page: OfficerPageDep, request: Request) -> Response:
    """The duplicate check as the officer types: the people registering this one would name.

    The registry's check takes a whole registration body but compares only names, birth date
    and phone; it is run once a name and a whole birth date are typed, and what it refuses (a
    half-typed field) simply shows no one yet.
    """
    assert page.officer is not None
    form = Form.from_data(await request.form())
    body = fields.identity(form.values)
    candidates: list[people.Candidate] = []
    ran = False
    if (body.get("given_name_lo") or body.get("given_name_en")) and _whole_date(body):
        body.setdefault("sex", "other")  # not compared; the check needs the field filled
        body["province_code"] = form.values.get("province_code") or page.officer.province_code
        try:
            candidates = await people.duplicate_check(page.api, body)
            ran = True
        except Rejected:
            candidates = []  # a half-typed field: no one to show yet
    _keep_decision_for(form, candidates)
    return page.render(
        "registration/_duplicates.html",
        form=form,
        candidates=candidates,
        labels=labels,
        checked=ran,
    )


@router.get("/register/districts")
async def district_options(page: OfficerPageDep, province_code: Text = None) -> Response:
    """The district field for the province chosen (htmx swaps it in when the province changes)."""
    form = Form(values={"province_code": province_code or ""})
    return page.render(
        "registration/_district.html", form=form, districts=_district_options(form, page)
    )


@router.get("/register/occupations")
async def occupation_options(
    page: OfficerPageDep,
    row: Annotated[int, Q(ge=0, lt=fields.EXPERIENCE_ROWS)] = 0,
    typed_0: Annotated[str | None, Q(alias="experience.0.search", max_length=200)] = None,
    typed_1: Annotated[str | None, Q(alias="experience.1.search", max_length=200)] = None,
    typed_2: Annotated[str | None, Q(alias="experience.2.search", max_length=200)] = None,
) -> Response:
    """The occupations matching what is typed in one work experience row (the input sends
    itself under its own name: one parameter per row)."""
    typed = (typed_0, typed_1, typed_2)[row]
    form = Form(values={f"experience.{row}.search": typed or ""})
    return page.render(
        "registration/_occupations.html",
        form=form,
        row=row,
        choices=fields.occupation_choices(form.values, row),
    )


async def _unseen_candidates(
    page: Page, form: Form, body: dict[str, Any]
) -> list[people.Candidate]:
    """ "Not the same person" is a decision about the people the officer was shown (the form
    carries their ids): when the names or birth date changed since, and someone else now looks
    like this person, the candidates are shown again rather than registered past unseen."""
    seen = {i for i in form.value(SEEN).split(",") if i}
    unconfirmed = {k: v for k, v in body.items() if k != "confirm_not_duplicate"}
    try:
        found = await people.duplicate_check(page.api, unconfirmed)
    except Rejected:
        return []  # the registration itself names what is wrong with the body
    return found if {str(c.id) for c in found} - seen else []


def _keep_decision_for(form: Form, candidates: list[people.Candidate]) -> None:
    """A "not the same person" ticked for other people than those now shown is not kept."""
    if form.value(SEEN) != ",".join(str(c.id) for c in candidates):
        form.values.pop("confirm_not_duplicate", None)


def _whole_date(body: dict[str, Any]) -> bool:
    return bool(body.get("date_of_birth")) and len(str(body["date_of_birth"])) == 10


def _candidates(problem: dict[str, Any]) -> list[people.Candidate]:
    found = []
    for candidate in problem.get("candidates") or []:
        try:
            found.append(people.Candidate.model_validate(candidate))
        except ValueError:
            continue
    return found


def _show(form: Form, refused: Rejected, built: fields.Built) -> None:
    """The registry's refusal beside the fields it names."""
    show_refusal(form, refused, lambda name: fields.form_field(name, built), _shown_fields())
    # A job title typed but no occupation picked: the registry says the code is missing; the
    # officer needs to hear which step is left.
    for n in range(fields.EXPERIENCE_ROWS):
        name = f"experience.{n}.isco08"
        error = form.errors.get(name)
        if error is not None and error.message == _("This is required."):
            form.errors[name] = Error(name, _("Choose the occupation found for the job title."))


def _shown_fields() -> set[str]:
    shown = set(fields.LABELS) | {"date_of_birth", WHOLE_FORM}
    for n in range(fields.LANGUAGE_ROWS):
        shown |= {f"languages.{n}.code", f"languages.{n}.proficiency"}
    for n in range(fields.EXPERIENCE_ROWS):
        shown |= {f"experience.{n}.isco08", f"experience.{n}.years"}
    return shown


def _district_options(form: Form, page: Page) -> list[tuple[str, str]]:
    province = form.value("province_code")
    return [(d.code, d.name(page.language)) for d in districts_of(province)]


def _render(
    page: Page,
    form: Form,
    status: int = 200,
    candidates: list[people.Candidate] | None = None,
) -> Response:
    if candidates is not None:
        _keep_decision_for(form, candidates)
    return page.render(
        "registration/register.html",
        status,
        form=form,
        candidates=candidates or [],
        checked=candidates is not None,
        districts=_district_options(form, page),
        provinces=[(code, names) for code, names in PROVINCE_NAMES.items()],
        occupations=[
            fields.occupation_choices(form.values, n) for n in range(fields.EXPERIENCE_ROWS)
        ],
        fields=fields,
        labels=labels,
    )
