"""The registration form, field by field in the order an officer interviews, and how what was
typed becomes the registry's registration body (and the registry's field names come back to the
form's). Pure: no I/O, so the mapping is tested on its own.

The console checks almost nothing itself: what was typed goes to the registry as typed (a date
as the three parts compose it, a number as its digits), so its validation, in one answer naming
every bad field, is the only one. Only what the registry cannot know is checked here: that the
district chosen lies in the province chosen (the registry keeps districts as free text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.console.i18n import N_
from shared.reference.districts import districts
from shared.reference.occupations import Occupation, occupation, search_occupations

if TYPE_CHECKING:
    from collections.abc import Mapping

LANGUAGE_ROWS = 3
EXPERIENCE_ROWS = 3
# The categories of partner agencies a person may agree to share their record with.
PARTNER_CATEGORIES = ("un_agencies", "government", "ngos", "employers_associations")
# The consent questions of the counter: form field → consent purpose.
CONSENT_QUESTIONS = {
    "consent_sms": "contact_sms",
    "consent_email": "contact_email",
    "consent_job_matching": "job_matching",
}
YES = "yes"

# What each field is called, for the error summary at the top of the page.
LABELS: dict[str, str] = {
    "given_name_lo": N_("Given name in Lao"),
    "family_name_lo": N_("Family name in Lao"),
    "given_name_en": N_("Given name in Latin letters"),
    "family_name_en": N_("Family name in Latin letters"),
    "sex": N_("Sex"),
    "date_of_birth": N_("Date of birth"),
    "phone": N_("Phone number"),
    "email": N_("Email address"),
    "province_code": N_("Province"),
    "district": N_("District"),
    "village": N_("Village"),
    "isced_level": N_("Highest education completed"),
    "skills": N_("Skills"),
    "consent_sms": N_("Messages by SMS"),
    "consent_email": N_("Messages by email"),
    "consent_job_matching": N_("Job matching"),
    "consent_partners": N_("Sharing with partner organisations"),
    "consent_method": N_("How the person gave their answers"),
    "consent_witness": N_("Witness"),
    "preferred_language": N_("Language for messages"),
}
ROW_LABELS = {
    "languages.code": N_("Language %(n)s"),
    "languages.proficiency": N_("Language %(n)s: how well"),
    "experience.search": N_("Work experience %(n)s: job title"),
    "experience.isco08": N_("Work experience %(n)s: occupation"),
    "experience.years": N_("Work experience %(n)s: years"),
}


@dataclass
class Built:
    """A registration body, and what the form needs to show the registry's answer about it."""

    body: dict[str, Any]
    # Errors the console found itself (form field → English message id), sent nowhere.
    errors: dict[str, str] = field(default_factory=dict)
    # Which form row each list entry of the body came from (`languages.1` was row 2).
    rows: dict[str, list[int]] = field(default_factory=dict)
    # Which form field each consent of the body came from.
    consent_fields: list[str] = field(default_factory=list)


def _text(values: Mapping[str, str], name: str) -> str | None:
    value = (values.get(name) or "").strip()
    return value or None


def date_of_birth(values: Mapping[str, str]) -> str | None:
    """The date as the registry reads it (YYYY-MM-DD) from the three boxes, as typed: parts that
    are not numbers are passed on as they are, so the registry names the date as not a date."""
    parts = [(values.get(f"date_of_birth.{p}") or "").strip() for p in ("year", "month", "day")]
    if not any(parts):
        return None
    year, month, day = parts
    if all(p.isdigit() for p in parts):
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"


def skill_tags(text: str | None) -> list[str]:
    """Skills typed as a list: commas, semicolons or new lines between them."""
    return [t.strip() for t in re.split(r"[,;\n]+", text or "") if t.strip()]


def identity(values: Mapping[str, str]) -> dict[str, Any]:
    """Names, sex, birth date and phone: what the duplicate check compares."""
    body: dict[str, Any] = {}
    for name in ("given_name_lo", "family_name_lo", "given_name_en", "family_name_en", "sex"):
        if value := _text(values, name):
            body[name] = value
    if born := date_of_birth(values):
        body["date_of_birth"] = born
    if phone := _text(values, "phone"):
        body["phone"] = phone
    return body


def registration(values: Mapping[str, str]) -> Built:
    """The registration body of what was typed (rows left empty are left out)."""
    built = Built(body=identity(values))
    body = built.body
    for name in ("email", "province_code", "village", "preferred_language"):
        if value := _text(values, name):
            body[name] = value
    if chosen := _text(values, "district"):
        _add_district(chosen, built)
    if level := _text(values, "isced_level"):
        body["education"] = {"isced_level": level}
    if tags := skill_tags(values.get("skills")):
        body["skills"] = {"tags": tags}
    if languages := _language_rows(values, built):
        body["languages"] = languages
    if experience := _experience_rows(values, built):
        body["experience"] = experience
    body["consents"] = _consents(values, built)
    if values.get("confirm_not_duplicate") == YES:
        body["confirm_not_duplicate"] = True
    return built


def _add_district(chosen: str, built: Built) -> None:
    """The district chosen, when it is one of the province chosen; an error otherwise."""
    district = districts().get(chosen)
    if district is None or district.province_code != built.body.get("province_code"):
        built.errors["district"] = N_("Choose a district of the province chosen.")
    else:
        # The registry keeps a district as text: its name as the district writes it.
        built.body["district"] = district.name_lo


def _language_rows(values: Mapping[str, str], built: Built) -> list[dict[str, Any]]:
    """The language rows filled in (what was left empty left out), noting which form row
    each one sent came from."""
    languages, built.rows["languages"] = [], []
    for n in range(LANGUAGE_ROWS):
        code = _text(values, f"languages.{n}.code")
        level = _text(values, f"languages.{n}.proficiency")
        if code or level:
            languages.append({"code": code, "proficiency": level})
            built.rows["languages"].append(n)
    return [{k: v for k, v in x.items() if v is not None} for x in languages]


def _experience_rows(values: Mapping[str, str], built: Built) -> list[dict[str, Any]]:
    """The experience rows filled in (an occupation only searched for counts as filled in),
    noting which form row each one sent came from."""
    experience, built.rows["experience"] = [], []
    for n in range(EXPERIENCE_ROWS):
        code = _text(values, f"experience.{n}.isco08")
        years = _text(values, f"experience.{n}.years")
        typed = _text(values, f"experience.{n}.search")
        if code or years or typed:
            experience.append({"isco08": code, "years": years})
            built.rows["experience"].append(n)
    return [{k: v for k, v in x.items() if v is not None} for x in experience]


def _consents(values: Mapping[str, str], built: Built) -> list[dict[str, Any]]:
    """The answers given at the counter: yes or no to each question (none when not asked), and
    the partners the person agreed to share with, all given the same way."""
    how: dict[str, Any] = {"method": _text(values, "consent_method") or "signed"}
    if witness := _text(values, "consent_witness"):
        how["witness_name"] = witness
    answers = []
    for name, purpose in CONSENT_QUESTIONS.items():
        answer = values.get(name)
        if answer in ("given", "refused"):
            answers.append({"purpose": purpose, "status": answer, **how})
            built.consent_fields.append(name)
    for category in PARTNER_CATEGORIES:
        if values.get(f"consent_partners.{category}") == YES:
            answers.append(
                {"purpose": "partner_sharing", "status": "given", "category": category, **how}
            )
            built.consent_fields.append(f"consent_partners.{category}")
    return answers


def form_field(api_field: str, built: Built) -> str | None:
    """The form field a registry error names (`experience.1.years` → `experience.2.years` when
    the second row sent was the form's third); None for a field this form does not show."""
    parts = api_field.split(".")
    head = parts[0]
    if api_field == "body":
        return "given_name_lo"  # the rule across fields: a given name in some script
    if head == "education":
        return "isced_level"
    if head == "skills":
        return "skills"
    if head in built.rows and len(parts) > 1 and parts[1].isdigit():
        rows = built.rows[head]
        index = int(parts[1])
        row = rows[index] if index < len(rows) else index
        leaf = parts[2] if len(parts) > 2 else ("isco08" if head == "experience" else "code")
        return f"{head}.{row}.{leaf}"
    if head == "consents":
        detail = parts[2] if len(parts) > 2 else None
        if detail == "witness_name":
            return "consent_witness"
        if detail == "method":
            return "consent_method"
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(built.consent_fields):
            name = built.consent_fields[int(parts[1])]
            return "consent_partners" if name.startswith("consent_partners.") else name
        return "consent_partners"
    if head in LABELS or head == "date_of_birth":
        return head
    return None


def label_of(name: str) -> tuple[str, dict[str, int]] | None:
    """The label (an English message id) of a form field, and its placeholders."""
    if name in LABELS:
        return LABELS[name], {}
    parts = name.split(".")
    if len(parts) == 3 and parts[1].isdigit() and f"{parts[0]}.{parts[2]}" in ROW_LABELS:
        return ROW_LABELS[f"{parts[0]}.{parts[2]}"], {"n": int(parts[1]) + 1}
    return None


def occupation_choices(values: Mapping[str, str], row: int) -> list[Occupation]:
    """The occupations matching what was typed in a work experience row (the chosen one first,
    so that it stays on the page when the search moves on)."""
    typed = _text(values, f"experience.{row}.search") or ""
    found = search_occupations(typed) if typed else []
    chosen = _text(values, f"experience.{row}.isco08")
    picked = occupation(chosen) if chosen not in [o.code for o in found] else None
    if picked is not None:
        found = [picked, *found]
    return found
