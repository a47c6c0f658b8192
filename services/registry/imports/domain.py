"""Reading a CSV of registrations into registration bodies, row by row, without I/O.

The columns are those of the paper form and the spreadsheet template ESCs and MRCs use
offline; lists inside a cell are separated by semicolons.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Any, cast

from services.registry.consent.domain import PARTNER_CATEGORIES
from services.registry.people.domain import SCALAR_FIELDS
from shared.problems import InvalidField, Problem

MAX_ROWS = 5000
LIST_SEPARATOR = ";"
TRUE = {"yes", "y", "true", "1", "ແມ່ນ"}
FALSE = {"no", "n", "false", "0", "", "ບໍ່"}

PLAIN = SCALAR_FIELDS  # one column per plain field of the form
DOCUMENTS = {
    "national_id": "national_id",
    "family_book": "family_book",
    "passport": "passport_number",
}
# The consent questions of the paper form: yes (given), no (refused), empty (not asked).
CONSENTS = {
    "consent_sms": "contact_sms",
    "consent_email": "contact_email",
    "consent_job_matching": "job_matching",
}
# Sharing with partners is agreed per category of partner (un_agencies, government, ngos,
# employers_associations) or per agency code, listed in the cell; `no` or empty records nothing,
# and nothing is shared without it.
PARTNER_SHARING = "consent_partner_sharing"
NOT_SHARED = FALSE
COLUMNS = (
    *PLAIN,
    "national_id",
    "family_book",
    "passport_number",
    "passport_expires_on",
    "isced_level",
    "skills",
    "languages",
    "desired_occupations",
    "willing_to_work_abroad",
    "abroad_countries",
    "confirm_not_duplicate",
    *CONSENTS,
    PARTNER_SHARING,
    "consent_method",
    "consent_witness",
)


class UnknownColumns(Problem):
    """422 naming each header the template does not have (a typo would lose a whole column)."""

    status, slug, title = 422, "validation-error", "Invalid request"

    def __init__(self, columns: list[str]) -> None:
        super().__init__(
            f"unknown columns: {', '.join(columns)}",
            errors=[
                {"field": c, "message": "is not a column of the template", "code": "unknown"}
                for c in columns
            ],
        )


@dataclass(frozen=True)
class Row:
    number: int  # line number in the file, header = 1, as a spreadsheet shows it
    key: str  # sha256 of the normalised content: the same row uploaded again is recognised
    body: dict[str, Any]
    errors: list[dict[str, str]]
    document_columns: list[str]  # which column each entry of body["documents"] came from
    consent_columns: list[str]  # which column each entry of body["consents"] came from


def read_rows(content: bytes) -> list[Row]:
    """Parse the file; 422 naming the problem when it is not a CSV with known columns."""
    try:
        text = content.decode("utf-8-sig")  # spreadsheets save UTF-8 with a byte-order mark
    except UnicodeDecodeError as exc:
        raise InvalidField("file", "must be UTF-8 text (save the sheet as CSV UTF-8)") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not any(header):
        raise InvalidField("file", "is empty; the first line must name the columns")
    # Columns without a name are the empty ones spreadsheets keep at the right of a sheet.
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise UnknownColumns(unknown)
    twice = [h for h in dict.fromkeys(header) if h and header.count(h) > 1]
    if twice:
        raise InvalidField(twice[0], "appears twice in the header")
    reader.fieldnames = header
    rows: list[Row] = []
    for index, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise InvalidField("file", f"has more than {MAX_ROWS} rows; split it")
        # A value past the last column or under a column with no name would be lost unread.
        past_header = cast("list[str]", raw.pop(None, None) or [])
        unnamed = cast("str", raw.pop("", None) or "")
        stray = any(v.strip() for v in [*past_header, unnamed])
        cells = {k: (v or "").strip() for k, v in raw.items()}
        if not any(cells.values()) and not stray:
            continue  # blank lines at the end of a sheet
        rows.append(_row(index, cells, stray=stray))
    return rows


def row_key(cells: dict[str, str]) -> str:
    normalised = "\x1f".join(f"{k}={v.casefold()}" for k, v in sorted(cells.items()) if v)
    return hashlib.sha256(normalised.encode()).hexdigest()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _row(number: int, cells: dict[str, str], *, stray: bool = False) -> Row:
    errors: list[dict[str, str]] = []
    if stray:
        errors.append({"field": "row", "message": "has values outside the named columns"})
    body: dict[str, Any] = {f: cells[f] for f in PLAIN if cells.get(f)}
    if not (cells.get("given_name_lo") or cells.get("given_name_en")):
        errors.append(
            {"field": "given_name_lo", "message": "given_name_lo or given_name_en is required"}
        )
    body["documents"], document_columns = _documents(cells, errors)
    if cells.get("isced_level"):
        body["education"] = {"isced_level": cells["isced_level"]}
    if cells.get("skills"):
        body["skills"] = {"tags": _split(cells["skills"])}
    if cells.get("languages"):
        body["languages"] = _languages(cells["languages"])
    jobseeker: dict[str, Any] = {}
    if cells.get("desired_occupations"):
        jobseeker["desired_occupations"] = _split(cells["desired_occupations"])
    if cells.get("abroad_countries"):
        jobseeker["abroad_countries"] = _split(cells["abroad_countries"])
    _yes_no_flags(cells, jobseeker, body, errors)
    body["jobseeker"] = jobseeker
    body["consents"], consent_columns = _consents(cells, errors)
    return Row(number, row_key(cells), body, errors, document_columns, consent_columns)


def _documents(
    cells: dict[str, str], errors: list[dict[str, str]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The documents of the document columns (a passport only with its expiry), and the column
    each came from."""
    documents, document_columns = [], []
    for kind, column in DOCUMENTS.items():
        if cells.get(column):
            document: dict[str, Any] = {"kind": kind, "number": cells[column]}
            if kind == "passport":
                if not cells.get("passport_expires_on"):
                    errors.append(
                        {"field": "passport_expires_on", "message": "a passport needs its expiry"}
                    )
                    continue
                document["expires_on"] = cells["passport_expires_on"]
            documents.append(document)
            document_columns.append(column)
    if cells.get("passport_expires_on") and not cells.get("passport_number"):
        errors.append(
            {"field": "passport_expires_on", "message": "is given without a passport_number"}
        )
    return documents, document_columns


def _languages(cell: str) -> list[dict[str, str]]:
    """`lo:native;en` → each language with its proficiency (basic when not given)."""
    languages = []
    for item in _split(cell):
        code, _, proficiency = item.partition(":")
        languages.append({"code": code.strip(), "proficiency": proficiency.strip() or "basic"})
    return languages


def _yes_no_flags(
    cells: dict[str, str],
    jobseeker: dict[str, Any],
    body: dict[str, Any],
    errors: list[dict[str, str]],
) -> None:
    """The yes/no columns: set where yes, left out where no or empty, an error otherwise."""
    for flag, target in (
        ("willing_to_work_abroad", jobseeker),
        ("confirm_not_duplicate", body),
    ):
        value = cells.get(flag, "").casefold()
        if value in TRUE:
            target[flag] = True
        elif value not in FALSE:
            errors.append({"field": flag, "message": "must be yes or no"})


def _consents(
    cells: dict[str, str], errors: list[dict[str, str]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The answers of the consent columns, and the column each came from."""
    # A paper form is signed unless the sheet says how the person agreed.
    shared = {"method": cells.get("consent_method") or "signed"}
    if cells.get("consent_witness"):
        shared["witness_name"] = cells["consent_witness"]
    consents, columns = [], []
    for column, purpose in CONSENTS.items():
        value = cells.get(column, "").casefold()
        if not value:
            continue
        if value in TRUE:
            consents.append({"purpose": purpose, "status": "given", **shared})
            columns.append(column)
        elif value in FALSE:
            consents.append({"purpose": purpose, "status": "refused", **shared})
            columns.append(column)
        else:
            errors.append({"field": column, "message": "must be yes or no"})
    partners = cells.get(PARTNER_SHARING, "")
    if partners.casefold() in TRUE:
        errors.append(
            {
                "field": PARTNER_SHARING,
                "message": "name the partners agreed to, e.g. un_agencies;government "
                f"(categories: {', '.join(sorted(PARTNER_CATEGORIES))}, or agency codes)",
            }
        )
    elif partners.casefold() not in NOT_SHARED:
        for partner in _split(partners):
            scope = "category" if partner in PARTNER_CATEGORIES else "agency"
            consents.append(
                {"purpose": "partner_sharing", "status": "given", scope: partner, **shared}
            )
            columns.append(PARTNER_SHARING)
    return consents, columns


def column_of(location: tuple[Any, ...], row: Row) -> str:
    """The CSV column a validation error of the registration body points at."""
    head = str(location[0]) if location else "row"
    if head == "documents" and len(location) > 1 and isinstance(location[1], int):
        column = row.document_columns[location[1]]
        return "passport_expires_on" if location[-1] == "expires_on" else column
    if head == "education":
        return "isced_level"
    if head == "jobseeker" and len(location) > 1:
        return str(location[1])
    if head == "consents" and len(location) > 1 and isinstance(location[1], int):
        leaf = location[-1] if len(location) > 2 else None
        if leaf == "method":
            return "consent_method"
        if leaf == "witness_name":
            return "consent_witness"
        return row.consent_columns[location[1]]
    return head


def column_named(field: str, row: Row) -> str:
    """The CSV column of a field a registration error names (`consents.1.witness_name`)."""
    return column_of(tuple(int(p) if p.isdigit() else p for p in field.split(".")), row)
