"""One way to show a form: what was typed, the errors beside each field and summed up at the
top (GOV.UK's error summary), and the Idempotency-Key the form was given when it was shown.

A service's 422 names its fields (`errors[].field`, e.g. `documents.0.number`); the form puts
each message, in the officer's language, beside the field of that name.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from services.console.apis.errors import FieldProblem, Rejected
from services.console.i18n import N_, _

IDEMPOTENCY_FIELD = "idempotency_key"
# Errors that belong to no one field are summed up under this name.
WHOLE_FORM = "__form__"


def field_id(name: str) -> str:
    """The id of a field's input, from its name (`documents.0.number` → `f-documents-0-number`)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


# What a service's error codes mean for the person typing (pydantic's codes and labourx's own).
_BY_CODE = {
    "missing": N_("This is required."),
    "literal_error": N_("Choose one of the options shown."),
    "enum": N_("Choose one of the options shown."),
    "date_parsing": N_("Enter a real date: day, month and year."),
    "date_from_datetime_parsing": N_("Enter a real date: day, month and year."),
    "date_type": N_("Enter a real date: day, month and year."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "bool_parsing": N_("Choose yes or no."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "unknown": N_("This is not something this page can send."),
}
# labourx's own rules, known by what their message says.
_BY_MESSAGE = {
    "must be written in Lao script": N_("Write this in Lao script."),
    "must be written in Latin letters": N_("Write this in Latin letters."),
    "is not an ISO 3166-2:LA province": N_("Choose a province of Laos."),
    "is not an ISCO-08 code": N_(
        "This is not an ISCO-08 occupation code: 1 to 4 digits, for example 7112."
    ),
    "phone number": N_("Enter a Lao or Thai phone number, for example 020 5555 1234."),
}


def explain(problem: FieldProblem) -> tuple[str, str | None]:
    """The message for the officer, in their language, and the service's own English words
    when the console has no exact translation of them (shown too, so nothing is lost)."""
    counted = re.search(r"at (least|most) (\d+)", problem.message)
    if problem.code == "string_too_short" and counted:
        return _("Type at least %(count)s characters.") % {"count": counted[2]}, None
    if problem.code == "string_too_long" and counted:
        return _("Type at most %(count)s characters.") % {"count": counted[2]}, None
    if known := _BY_CODE.get(problem.code):
        return _(known), None
    for words, known in _BY_MESSAGE.items():
        if words in problem.message:
            return _(known), None
    return _("This was not accepted."), problem.message or None


@dataclass(frozen=True)
class Error:
    name: str
    message: str
    original: str | None = None

    @property
    def target(self) -> str:
        return field_id(self.name) if self.name != WHOLE_FORM else "top"


@dataclass
class Form:
    """A form's state between the officer and the services."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Error] = field(default_factory=dict)
    # Given when the form is first shown and kept through every re-display of it.
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def from_data(cls, data: FormData | Mapping[str, str]) -> Form:
        """A submitted form: what was typed, and the key it was shown with."""
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        key = values.pop(IDEMPOTENCY_FIELD, "")
        values.pop("csrf_token", None)
        try:
            key = str(uuid.UUID(key))
        except ValueError:
            key = str(uuid.uuid4())
        return cls(values=values, idempotency_key=key)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> Error | None:
        return self.errors.get(name)

    def add_error(self, name: str, message: str, original: str | None = None) -> None:
        # The first message about a field is the one shown beside it.
        self.errors.setdefault(name, Error(name, message, original))

    def reject(self, rejected: Rejected, names: Mapping[str, str] | None = None) -> None:
        """Show a service's refusal: each named field's message beside it. `names` maps the
        service's field names to this form's where they differ; a field the form does not
        show is summed up at the top."""
        problems = rejected.field_problems
        for problem in problems:
            name = (names or {}).get(problem.field, problem.field)
            message, original = explain(problem)
            self.add_error(name, message, original)
        if not problems:
            self.add_error(WHOLE_FORM, _("This was not accepted."), rejected.detail or None)

    @property
    def summary(self) -> list[Error]:
        return list(self.errors.values())
