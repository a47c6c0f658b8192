"""A CSV import as the officer sees it: the registry's report row by row beside the row's own
cells, and the rows still to fix as a CSV to download, correct in a spreadsheet and upload again.

Pure (no I/O). The registry reads and checks the file; the console reads it only to show who
each row is and to give the rows back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# The template's columns, as the registry's import reads them (services/registry/imports/
# domain.py COLUMNS; tests/console/test_imports.py fails the day they differ).
COLUMNS = (
    "given_name_lo",
    "family_name_lo",
    "given_name_en",
    "family_name_en",
    "sex",
    "date_of_birth",
    "ethnicity",
    "phone",
    "email",
    "province_code",
    "district",
    "village",
    "preferred_language",
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
    "consent_sms",
    "consent_email",
    "consent_job_matching",
    "consent_partner_sharing",
    "consent_method",
    "consent_witness",
)
# The column the console adds to the rows it gives back, saying what to fix; dropped again
# when the file comes back (the registry refuses columns it does not know).
PROBLEMS_COLUMN = "console_problems"
# Rows that were not registered and can be, once fixed or confirmed.
TO_FIX = ("error", "probable_duplicate")
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: dict[int, dict[str, str]]  # by row number as the registry counts them (header = 1)


def decode(content: bytes) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def read_sheet(content: bytes) -> Sheet | None:
    """The file's rows, numbered as the registry numbers them; None when it is not UTF-8 CSV
    (the registry says why)."""
    text = decode(content)
    if text is None:
        return None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    rows = {}
    for number, raw in enumerate(reader, start=2):
        rows[number] = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
    return Sheet(header, rows)


def without_problems_column(content: bytes) -> bytes:
    """The file as the officer fixed it, without the console's own column (if it has it)."""
    text = decode(content)
    if text is None:
        return content
    reader = csv.reader(io.StringIO(text))
    lines = list(reader)
    if not lines or PROBLEMS_COLUMN not in [h.strip() for h in lines[0]]:
        return content
    drop = [h.strip() for h in lines[0]].index(PROBLEMS_COLUMN)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in lines:
        writer.writerow([cell for n, cell in enumerate(line) if n != drop])
    return out.getvalue().encode("utf-8")


@dataclass
class Line:
    """One row of the report: the registry's word about it, and who it is."""

    row: int
    status: str
    person_id: str | None
    cells: dict[str, str]
    problems: list[tuple[str, str, str | None]] = field(
        default_factory=list
    )  # column, message, original
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name_lo(self) -> str:
        return " ".join(
            p for p in (self.cells.get("given_name_lo"), self.cells.get("family_name_lo")) if p
        )

    @property
    def name_en(self) -> str:
        return " ".join(
            p for p in (self.cells.get("given_name_en"), self.cells.get("family_name_en")) if p
        )


def lines(
    report: dict[str, Any],
    sheet: Sheet | None,
    explain: Callable[[str, str], tuple[str, str | None]],
) -> list[Line]:
    """The report's rows with their cells; `explain(column, message)` words each problem."""
    found = []
    for entry in report.get("report") or []:
        number = int(entry["row"])
        cells = sheet.rows.get(number, {}) if sheet else {}
        line = Line(
            row=number,
            status=str(entry["status"]),
            person_id=str(entry["person_id"]) if entry.get("person_id") else None,
            cells=cells,
            candidates=list(entry.get("candidates") or []),
        )
        for problem in entry.get("errors") or []:
            column = str(problem.get("field", "row"))
            message, original = explain(column, str(problem.get("message", "")))
            line.problems.append((column, message, original))
        found.append(line)
    return found


def rows_to_fix(
    sheet: Sheet, report_lines: list[Line], duplicate_note: Callable[[Line], str]
) -> str:
    """The rows not registered that can be, as a CSV in the file's own columns (and
    `confirm_not_duplicate`, which a probable duplicate needs), the problems in a last column."""
    header = [h for h in sheet.header if h and h != PROBLEMS_COLUMN]
    if "confirm_not_duplicate" not in header:
        header.append("confirm_not_duplicate")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*header, PROBLEMS_COLUMN])
    for line in report_lines:
        if line.status not in TO_FIX:
            continue
        if line.status == "error":
            said = "; ".join(f"{column}: {message}" for column, message, _ in line.problems)
        else:
            said = duplicate_note(line)
        writer.writerow([*(line.cells.get(h, "") for h in header), said])
    return out.getvalue()


def template() -> str:
    """The template's header row, to fill in a spreadsheet."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(COLUMNS)
    return out.getvalue()
