"""The registry's refusals about people, in the officer's language, beside the fields they name.

`web/forms.explain` knows the words every service shares (pydantic's codes, scripts, phones,
ISCO codes); this adds the registry's own rules about people, consents, statuses and imports,
so that an officer reads them in Lao rather than in the service's English.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from services.console.i18n import N_, _
from services.console.web.forms import WHOLE_FORM, Form, explain

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from services.console.apis.errors import FieldProblem, Rejected

# The registry's words → what the officer reads. Patterns may capture a number for %(n)s.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"given_name_lo or given_name_en is required"),
        N_("Write a given name in Lao script or in Latin letters."),
    ),
    (
        re.compile(r"must be at least (\d+) years old"),
        N_("The person must be at least %(n)s years old to register."),
    ),
    (re.compile(r"is in the future|cannot be in the future"), N_("This date is in the future.")),
    (re.compile(r"is in the past"), N_("This date is in the past.")),
    (
        re.compile(r"consent needs a witness"),
        N_("Verbal and thumbprint consent need the name of a witness."),
    ),
    (re.compile(r"answers a purpose already answered"), N_("This question is answered twice.")),
    (
        re.compile(r"sharing consent names one agency or one category"),
        N_("Name one partner agency or one category of partners."),
    ),
    (re.compile(r"must be yes or no"), N_("Write yes or no.")),
    (
        re.compile(r"is not a column of the template"),
        N_("This column is not one of the template's."),
    ),
    (re.compile(r"a passport needs"), N_("A passport needs its expiry date.")),
    (
        re.compile(r"is given without a passport_number"),
        N_("An expiry date is given without a passport number."),
    ),
    (
        re.compile(r"has values outside the named columns"),
        N_("This row has values outside the named columns."),
    ),
    (
        re.compile(r"name the partners agreed to"),
        N_("Name the partners agreed to, for example un_agencies;government."),
    ),
    (re.compile(r"is not an ISCED 2011 level"), N_("Choose an education level from 0 to 8.")),
    (
        re.compile(r"is not an ISO 639"),
        N_("This is not a language code, for example lo, th or en."),
    ),
    (re.compile(r"is not an ISO 3166-1"), N_("This is not a country code, for example TH.")),
    (
        re.compile(r"MOU recruitment goes through a licensed agency"),
        N_("MOU recruitment goes through a licensed agency: give its code."),
    ),
    (re.compile(r"the departure date is required"), N_("Give the date of departure.")),
    (re.compile(r"the return date is required"), N_("Give the date of return.")),
    (re.compile(r"is required when a worker returns"), N_("Give the reason for the return.")),
    (
        re.compile(r"the return cannot be before the departure"),
        N_("The return cannot be before the departure."),
    ),
    (re.compile(r"at least (\d+) characters"), N_("Type at least %(n)s characters.")),
    (re.compile(r"must be UTF-8"), N_("Save the sheet as CSV UTF-8 and upload it again.")),
    (
        re.compile(r"is empty; the first line must name the columns"),
        N_("The file is empty: its first line must name the columns."),
    ),
    (
        re.compile(r"appears twice in the header"),
        N_("This column appears twice in the first line."),
    ),
    (re.compile(r"has more than (\d+) rows"), N_("The file has more than %(n)s rows: split it.")),
    (re.compile(r"send the file as text/csv"), N_("Choose a CSV file.")),
]
# pydantic's own words, for the problems a CSV import reports without their codes (a form's
# problems carry their code, which `explain` reads first: "day, month and year" there).
_UNCODED: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"Input should be a valid date"),
        N_("Write a real date as year-month-day, for example 1998-03-27."),
    ),
    (re.compile(r"Input should be ((?:'[^']*'(?:, | or )?)+)$"), N_("Write one of these: %(n)s")),
    (re.compile(r"Input should be a valid integer"), N_("Write a whole number.")),
    (re.compile(r"Input should be a valid number"), N_("Write a number.")),
    (re.compile(r"^Field required$"), N_("This is required.")),
    (re.compile(r"not a valid email address"), N_("This is not an email address.")),
    (
        re.compile(r"is not one of the 50 ethnic groups"),
        N_("This is not one of the ethnic groups of Lao PDR, for example lao, khmu or hmong."),
    ),
]


def explain_problem(problem: FieldProblem) -> tuple[str, str | None]:
    """The message for the officer, and the registry's words when the console has none."""
    rules = _RULES if problem.code else _RULES + _UNCODED
    for pattern, message in rules:
        if found := pattern.search(problem.message):
            said = found.group(1) if found.groups() else ""
            if "'" in said:  # 'female', 'male' or 'other': the choices, without the English "or"
                said = ", ".join(re.findall(r"'([^']*)'", said))
            return _(message) % {"n": said}, None
    return explain(problem)


def show_refusal(
    form: Form,
    rejected: Rejected,
    to_form: Callable[[str], str | None] | Mapping[str, str] | None = None,
    shown: set[str] | None = None,
) -> None:
    """Put each field the registry named beside the form's field of that name (`to_form` maps
    the registry's names to the form's; None: not on this form, said at the top)."""
    problems = rejected.field_problems
    for problem in problems:
        if callable(to_form):
            name = to_form(problem.field)
        elif to_form is not None:
            name = to_form.get(problem.field, problem.field)
        else:
            name = problem.field
        if name is None or (shown is not None and name not in shown):
            name, original = WHOLE_FORM, problem.field
            message, said = explain_problem(problem)
            form.add_error(name, message, f"{original}: {said or problem.message}")
            continue
        message, original_words = explain_problem(problem)
        form.add_error(name, message, original_words)
    if not problems:
        form.add_error(WHOLE_FORM, _("This was not accepted."), rejected.detail or None)
