"""CSV import of registrations collected on paper or offline: upload, the report row by row,
and the rows to fix downloaded, corrected and uploaded again (rows registered before are
recognised by the registry and not registered twice)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form as FormField
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from services.console.apis import files
from services.console.apis.errors import FieldProblem, Rejected
from services.console.i18n import _
from services.console.imports import report
from services.console.people import labels
from services.console.people.refusals import explain_problem
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import OfficerPageDep, Page
from shared.http_limits import UPLOAD

router = console_router()

FILE = "file"


@router.get("/imports")
async def upload_form(page: OfficerPageDep) -> Response:
    return _upload_page(page, Form())


@router.get("/imports/template.csv")
async def template(page: OfficerPageDep) -> Response:
    """The columns of the template, to fill in a spreadsheet (saved as CSV UTF-8)."""
    return _csv(report.template(), "registrations-template.csv")


# An upload: its body may be up to LABOURX_MAX_UPLOAD_BYTES (shared/http_limits.py).
@router.post("/imports", openapi_extra=UPLOAD)
async def upload(page: OfficerPageDep, request: Request) -> Response:
    data = await request.form()
    form = Form.from_data(data)
    sent = data.get(FILE)
    if not isinstance(sent, UploadFile) or not sent.filename:
        form.add_error(FILE, _("Choose the CSV file to upload."))
        return _upload_page(page, form, status=422)
    content = await sent.read(report.MAX_BYTES + 1)
    if len(content) > report.MAX_BYTES:
        form.add_error(FILE, _("The file is over 5 MB: split it into smaller files."))
        return _upload_page(page, form, status=413)
    content = report.without_problems_column(content)
    try:
        answer = await files.send_file(
            page.api,
            "registry",
            "/v1/imports",
            content,
            "text/csv; charset=utf-8",
            params={"filename": sent.filename[:200]},
            idempotency_key=form.idempotency_key,
        )
    except Rejected as refused:
        form.add_error(FILE, *_file_problem(refused))
        return _upload_page(page, form, status=refused.status)
    sheet = report.read_sheet(content)
    lines = report.lines(answer, sheet, _explain)
    to_fix = report.rows_to_fix(sheet, lines, _duplicate_note) if sheet else ""
    return page.render(
        "imports/report.html",
        answer=answer,
        lines=lines,
        filename=sent.filename,
        to_fix=to_fix if any(line.status in report.TO_FIX for line in lines) else "",
        form=Form(),  # a new upload, e.g. of the fixed rows
        labels=labels,
    )


@router.post("/imports/rows-to-fix.csv")
async def rows_to_fix(page: OfficerPageDep, rows: Annotated[str, FormField()]) -> Response:
    """The rows to fix, as the report page made them, back as a file to open in a spreadsheet."""
    return _csv(rows, "rows-to-fix.csv")


def _csv(text: str, name: str) -> Response:
    # With a byte-order mark: spreadsheets then open the Lao script as UTF-8.
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _explain(column: str, message: str) -> tuple[str, str | None]:
    return explain_problem(FieldProblem(column, message, ""))


def _duplicate_note(line: report.Line) -> str:
    references = ", ".join(str(c.get("reference") or c.get("id")) for c in line.candidates)
    return _(
        "May be registered already as %(references)s. If it is not them, write yes in"
        " confirm_not_duplicate."
    ) % {"references": references}


def _file_problem(refused: Rejected) -> tuple[str, str | None]:
    """What is wrong with the file as a whole, in one message beside the file field."""
    problems = refused.field_problems
    unknown = [p.field for p in problems if p.code == "unknown"]
    if unknown:
        return _("These columns are not the template's: %(columns)s") % {
            "columns": ", ".join(unknown)
        }, None
    if refused.status == 413:
        return _("The file is over 5 MB: split it into smaller files."), None
    if problems:
        message, original = explain_problem(problems[0])
        return message, original
    return _("This was not accepted."), refused.detail or None


def _upload_page(page: Page, form: Form, status: int = 200) -> Response:
    return page.render("imports/upload.html", status, form=form, columns=report.COLUMNS)
