"""CSV import through the console: the report row by row as a table, the rows to fix given back
as a CSV (with what to fix in a last column), and the fixed file uploaded again registers those
rows once; a file the registry refuses as a whole is said beside the file field, in Lao."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest

from services.console.imports import report
from services.registry.imports.domain import COLUMNS
from tests.console.conftest import hidden_fields, sign_in
from tests.support import fetchval, unique_names

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

# Luang Namtha: a province of these tests' own.
PROVINCE, OFFICE = "LA-LM", "ESC-LM"
HEADER = [
    "given_name_lo",
    "given_name_en",
    "family_name_en",
    "sex",
    "date_of_birth",
    "phone",
    "province_code",
    "consent_sms",
    "consent_method",
    "consent_witness",
]


@pytest.fixture
async def officer(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(browser, office=OFFICE)
    return browser


def sheet(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # as a spreadsheet saves "CSV UTF-8"


def row(sex: str = "female", consent: str = "yes", method: str = "signed") -> list[str]:
    names = unique_names()
    return [
        names["given_name_lo"],
        names["given_name_en"],
        "Keomany",
        sex,
        names["date_of_birth"],
        names["phone"],
        PROVINCE,
        consent,
        method,
        "",
    ]


async def upload(
    browser: httpx.AsyncClient, content: bytes, name: str = "ban.csv"
) -> httpx.Response:
    page = await browser.get("/imports")
    assert page.status_code == 200
    return await browser.post(
        "/imports",
        data=hidden_fields(page.text),
        files={"file": (name, content, "text/csv")},
    )


def test_the_console_knows_the_registrys_template_columns() -> None:
    assert report.COLUMNS == COLUMNS


async def test_an_import_reports_each_row_gives_back_the_rows_to_fix_and_registers_them_once(
    officer: httpx.AsyncClient, console_settings: Settings
) -> None:
    good, bad, witnessless = row(), row(sex="x", consent="maybe"), row(method="verbal")
    answer = await upload(officer, sheet([good, bad, witnessless]))
    assert answer.status_code == 200, answer.text
    html = answer.text
    table = html[html.index('<table class="report">') :]
    rows = re.findall(r'<tr class="status-(\w+)">', table)
    assert rows == ["created", "error", "error"]
    # Each problem named by its column, in Lao.
    assert '<span class="reference">sex</span>: ກະລຸນາຂຽນໜຶ່ງໃນນີ້: female, male, other' in table
    assert '<span class="reference">consent_sms</span>: ກະລຸນາຂຽນ yes ຫຼື no.' in table
    assert '<span class="reference">consent_witness</span>' in table
    assert good[0] in table
    assert bad[0] in table
    count = await fetchval(
        console_settings,
        "registry",
        "SELECT count(*) FROM people WHERE given_name_en = $1",
        good[1],
    )
    assert count == 1

    # The rows to fix, as a CSV to open in a spreadsheet: the file's columns, what to fix last.
    rows_field = re.search(r'<textarea name="rows" hidden>(.*?)</textarea>', html, re.S)
    assert rows_field
    token = hidden_fields(html)["csrf_token"]
    download = await officer.post(
        "/imports/rows-to-fix.csv",
        data={"csrf_token": token, "rows": _unescape(rows_field[1])},
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    fix = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r["given_name_en"] for r in fix] == [bad[1], witnessless[1]]
    assert "sex" in fix[0][report.PROBLEMS_COLUMN]
    assert "consent_sms" in fix[0][report.PROBLEMS_COLUMN]

    # Fixed in the spreadsheet, uploaded as it is (the console's column and all).
    fix[0]["sex"], fix[0]["consent_sms"] = "male", "no"
    fix[1]["consent_witness"] = "ນາງ ດາວ"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fix[0]))
    writer.writeheader()
    writer.writerows(fix)
    fixed = out.getvalue().encode("utf-8-sig")
    again = await upload(officer, fixed, "rows-to-fix.csv")
    assert again.status_code == 200, again.text
    assert re.findall(r'<tr class="status-(\w+)">', again.text) == ["created", "created"]
    assert "<textarea" not in again.text  # nothing left to fix
    # The same file once more registers no one a second time.
    once_more = await upload(officer, fixed, "rows-to-fix.csv")
    assert re.findall(r'<tr class="status-(\w+)">', once_more.text) == [
        "already_imported",
        "already_imported",
    ]
    for made in (bad, witnessless):
        count = await fetchval(
            console_settings,
            "registry",
            "SELECT count(*) FROM people WHERE given_name_en = $1",
            made[1],
        )
        assert count == 1


async def test_a_file_refused_as_a_whole_is_said_beside_the_file_field_in_lao(
    officer: httpx.AsyncClient,
) -> None:
    refused = await upload(officer, sheet([row()], header=[*HEADER[:-1], "witness"]))
    assert refused.status_code == 422
    assert 'href="#f-file"' in refused.text
    assert "ຖັນເຫຼົ່ານີ້ບໍ່ແມ່ນຖັນຂອງແບບຟອມ: witness" in refused.text
    not_utf8 = await upload(officer, "given_name_en\nSomsak\xe9\n".encode("latin-1"))
    assert not_utf8.status_code == 422
    assert "CSV UTF-8" in not_utf8.text
    page = await officer.get("/imports")
    nothing = await officer.post("/imports", data=hidden_fields(page.text))
    assert nothing.status_code == 422
    assert "ກະລຸນາເລືອກໄຟລ໌ CSV ທີ່ຈະອັບໂຫຼດ" in nothing.text


async def test_the_template_has_the_registrys_columns(officer: httpx.AsyncClient) -> None:
    template = await officer.get("/imports/template.csv")
    assert template.status_code == 200
    header = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    assert tuple(header) == COLUMNS


def _unescape(html: str) -> str:
    return (
        html.replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )
