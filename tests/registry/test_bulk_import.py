"""Bulk import of registrations collected offline: a CSV in, a report per row out."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support import bearer, fetch, fetchval, jobseeker, unique_names

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

PEOPLE = "SELECT count(*) FROM people"
OUTBOX = "SELECT count(*) FROM outbox"
BATCHES = "SELECT count(*) FROM import_batches"
REGISTERED = "lao.labourx.registry.person.registered.v2"  # sealed (shared/sealing.py)


def _csv(rows: list[dict[str, str]], *, bom: bool = False, newline: str = "\n") -> bytes:
    """The file as a spreadsheet saves it: a header row naming every column used, then rows."""
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def _row(**cells: str) -> dict[str, str]:
    """A row of a person no other test registers (names, birth date, phone)."""
    names = unique_names()
    row = {
        "given_name_lo": names["given_name_lo"],
        "family_name_lo": "ພົມມະຈັນ",
        "given_name_en": names["given_name_en"],
        "family_name_en": "Phommachan",
        "sex": "female",
        "date_of_birth": names["date_of_birth"],
        "phone": names["phone"],
        "province_code": "LA-VT",
    }
    row.update(cells)
    return row


def _number(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:9].upper()}"


async def _upload(
    client: httpx.AsyncClient, auth: dict[str, str], content: bytes, **headers: str
) -> httpx.Response:
    return await client.post(
        "/v1/imports",
        content=content,
        headers={**auth, "Content-Type": "text/csv; charset=utf-8", **headers},
    )


async def _counts(settings: Settings) -> tuple[int, int, int]:
    return (
        await fetchval(settings, "registry", PEOPLE),
        await fetchval(settings, "registry", OUTBOX),
        await fetchval(settings, "registry", BATCHES),
    )


async def test_good_rows_become_jobseekers_with_every_column_stored_and_announced(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    national_id, passport = _number("NID"), _number("P")
    rows = [
        _row(
            ethnicity="hmong",
            email="noy@example.la",
            district="Sisattanak",
            village="Ban Phonxay",
            national_id=national_id,
            passport_number=passport,
            passport_expires_on="2031-05-01",
            isced_level="3",
            skills="Welding; driving",
            languages="lo:native;th",
            desired_occupations="7212;8322",
            willing_to_work_abroad="yes",
            abroad_countries="TH;kr",
        ),
        _row(willing_to_work_abroad="no"),
    ]

    response = await _upload(registry_client, auth, _csv(rows))

    assert response.status_code == 201, response.text
    report = response.json()
    assert report["rows"] == 2
    assert report["counts"] == {"created": 2}
    assert [(r["row"], r["status"]) for r in report["report"]] == [(2, "created"), (3, "created")]
    first, second = (r["person_id"] for r in report["report"])
    person = (await registry_client.get(f"/v1/people/{first}", headers=auth)).json()
    assert person["given_name_lo"] == rows[0]["given_name_lo"]
    assert person["ethnicity"] == "hmong"
    assert person["isced_level"] == 3
    assert person["skills"] == ["welding", "driving"]
    assert person["languages"] == [
        {"code": "lo", "proficiency": "native"},
        {"code": "th", "proficiency": "basic"},
    ]
    assert {(d["kind"], d["number"]) for d in person["documents"]} == {
        ("national_id", national_id),
        ("passport", passport),
    }
    assert person["documents"][1]["expires_on"] == "2031-05-01"
    assert person["jobseeker"]["status"] == "active"
    assert person["jobseeker"]["desired_occupations"] == ["7212", "8322"]
    assert person["jobseeker"]["willing_to_work_abroad"] is True
    assert person["jobseeker"]["abroad_countries"] == ["TH", "KR"]
    assert person["registered_by"] == "officer-vt-1"
    for person_id in (first, second):
        [event] = await fetch(
            migrated, "registry", "SELECT type FROM outbox WHERE key = $1", person_id
        )
        assert event["type"] == REGISTERED
    [batch] = await fetch(
        migrated,
        "registry",
        "SELECT uploaded_by, office_code, summary FROM import_batches WHERE id = $1::uuid",
        report["batch_id"],
    )
    assert (batch["uploaded_by"], batch["office_code"]) == ("officer-vt-1", "ESC-VT")
    assert json.loads(batch["summary"]) == {"rows": 2, "created": 2}


@pytest.mark.parametrize(
    ("cells", "columns"),
    [
        ({"date_of_birth": "31/12/1990"}, {"date_of_birth"}),
        ({"date_of_birth": "2020-01-01"}, {"date_of_birth"}),  # younger than working age
        ({"phone": "12345"}, {"phone"}),
        ({"province_code": "LA-XX"}, {"province_code"}),
        ({"province_code": "LA-SV"}, {"province_code"}),  # outside the officer's province
        ({"sex": "unknown"}, {"sex"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"given_name_lo": "Somsak"}, {"given_name_lo"}),  # Latin letters in the Lao column
        ({"given_name_lo": "", "given_name_en": ""}, {"given_name_lo"}),
        ({"national_id": "#1"}, {"national_id"}),
        ({"passport_number": "P7700112"}, {"passport_expires_on"}),
        ({"passport_number": "P7700113", "passport_expires_on": "soon"}, {"passport_expires_on"}),
        ({"passport_expires_on": "2031-01-01"}, {"passport_expires_on"}),  # without a passport
        ({"isced_level": "12"}, {"isced_level"}),
        ({"languages": "xx:native"}, {"languages"}),
        ({"desired_occupations": "12345"}, {"desired_occupations"}),
        ({"abroad_countries": "XX"}, {"abroad_countries"}),
        ({"willing_to_work_abroad": "maybe"}, {"willing_to_work_abroad"}),
        ({"confirm_not_duplicate": "sure"}, {"confirm_not_duplicate"}),
        # Every bad cell of a row is named at once, not one per upload.
        (
            {"willing_to_work_abroad": "maybe", "phone": "12345"},
            {"willing_to_work_abroad", "phone"},
        ),
    ],
)
async def test_a_bad_value_is_reported_by_its_column_and_nothing_of_the_row_is_saved(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    cells: dict[str, str],
    columns: set[str],
) -> None:
    bad = _row(**cells)
    good = _row()
    people, outbox, _ = await _counts(migrated)

    response = await _upload(registry_client, auth, _csv([bad, good]))

    assert response.status_code == 201, response.text
    first, second = response.json()["report"]
    assert first["status"] == "error", first
    assert first["person_id"] is None
    assert {e["field"] for e in first["errors"]} == columns
    assert all(e["message"] for e in first["errors"])
    assert second["status"] == "created"  # a bad row does not hold back the others
    assert await fetchval(migrated, "registry", PEOPLE) == people + 1
    assert await fetchval(migrated, "registry", OUTBOX) == outbox + 1
    saved = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM people WHERE given_name_lo = $1 OR given_name_en = $2",
        bad["given_name_lo"],
        bad["given_name_en"],
    )
    assert saved == 0
    for column in ("national_id", "passport_number"):
        if bad.get(column):
            documents = await fetchval(
                migrated,
                "registry",
                "SELECT count(*) FROM identity_documents WHERE number = $1",
                bad[column].upper(),
            )
            assert documents == 0


async def test_a_registered_national_id_is_a_duplicate_naming_the_existing_person(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    national_id = _number("NID")
    existing = await registry_client.post(
        "/v1/jobseekers",
        json=jobseeker(documents=[{"kind": "national_id", "number": national_id}]),
        headers=auth,
    )
    assert existing.status_code == 201, existing.text
    passport = _number("P")
    row = _row(
        national_id=national_id.lower(),  # written by hand, in lower case
        passport_number=passport,
        passport_expires_on="2030-01-01",
    )
    people, outbox, batches = await _counts(migrated)

    response = await _upload(registry_client, auth, _csv([row]))

    assert response.status_code == 201, response.text
    [reported] = response.json()["report"]
    assert reported["status"] == "duplicate"
    assert [c["id"] for c in reported["candidates"]] == [existing.json()["id"]]
    assert await _counts(migrated) == (people, outbox, batches + 1)
    assert (
        await fetchval(
            migrated,
            "registry",
            "SELECT count(*) FROM identity_documents WHERE number = $1",
            passport,
        )
        == 0
    )


# One woman, as two officers might write her: in Lao script, and romanised.
LAO = {
    "given_name_lo": "ຈັນທະວີ",
    "family_name_lo": "ແສງສຸລິນ",
    "given_name_en": "",
    "family_name_en": "",
}
ROMAN = {
    "given_name_lo": "",
    "family_name_lo": "",
    "given_name_en": "Chanthavy",
    "family_name_en": "Sengsoulin",
}


async def test_a_probable_duplicate_of_an_earlier_row_waits_for_the_officers_confirmation(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    earlier = _row(**LAO, date_of_birth=born)
    same_person = _row(**ROMAN, date_of_birth=born)
    people = await fetchval(migrated, "registry", PEOPLE)

    held = await _upload(registry_client, auth, _csv([earlier, same_person]))

    assert held.status_code == 201, held.text
    created, probable = held.json()["report"]
    assert created["status"] == "created"
    assert probable["status"] == "probable_duplicate"
    assert probable["person_id"] is None
    [candidate] = probable["candidates"]
    assert candidate["id"] == created["person_id"]
    assert candidate["same_date_of_birth"] is True
    assert "given_name_en" not in candidate
    assert await fetchval(migrated, "registry", PEOPLE) == people + 1

    confirmed = await _upload(
        registry_client, auth, _csv([earlier, {**same_person, "confirm_not_duplicate": "yes"}])
    )

    assert confirmed.status_code == 201, confirmed.text
    again, registered = confirmed.json()["report"]
    assert (again["status"], again["person_id"]) == ("already_imported", created["person_id"])
    assert registered["status"] == "created"
    assert await fetchval(migrated, "registry", PEOPLE) == people + 2
    override = await fetchval(
        migrated,
        "registry",
        "SELECT duplicate_override FROM people WHERE id = $1::uuid",
        registered["person_id"],
    )
    assert json.loads(override)["candidates"][0]["id"] == created["person_id"]


async def test_a_file_saved_by_excel_with_a_byte_order_mark_and_lao_names_is_read(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    row = _row(
        given_name_lo="ບົວພັນ",
        family_name_lo="ສີສຸວັນ",
        given_name_en="",
        family_name_en="",
        date_of_birth=born,
        village="ບ້ານໂພນໄຊ",
        willing_to_work_abroad="ແມ່ນ",  # "yes", as a Lao template offers it
    )

    response = await _upload(registry_client, auth, _csv([row], bom=True, newline="\r\n"))

    assert response.status_code == 201, response.text
    [reported] = response.json()["report"]
    assert reported["status"] == "created", reported
    [person] = await fetch(
        migrated,
        "registry",
        "SELECT p.given_name_lo, p.family_name_lo, p.village, p.date_of_birth::text AS born,"
        " j.willing_to_work_abroad FROM people p JOIN jobseeker_profiles j ON j.person_id = p.id"
        " WHERE p.id = $1::uuid",
        reported["person_id"],
    )
    assert dict(person) == {
        "given_name_lo": "ບົວພັນ",
        "family_name_lo": "ສີສຸວັນ",
        "village": "ບ້ານໂພນໄຊ",
        "born": born,
        "willing_to_work_abroad": True,
    }


async def test_an_unknown_column_refuses_the_file_naming_the_column(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    before = await _counts(migrated)

    response = await _upload(registry_client, auth, _csv([_row(nickname="Noy")]))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["nickname"]
    assert await _counts(migrated) == before


async def test_a_column_named_twice_refuses_the_file(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    row = _row()
    content = ",".join([*row, "phone"]) + "\n" + ",".join([*row.values(), "+8562099999999"])

    response = await _upload(registry_client, auth, content.encode())

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "phone"


async def test_empty_columns_a_sheet_keeps_are_ignored_but_a_stray_value_is_reported(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    kept, stray = _row(), _row()
    header = ",".join(kept) + ",,"
    lines = [header, ",".join(kept.values()) + ",,", ",".join(stray.values()) + ",,oops", ",,,"]

    response = await _upload(registry_client, auth, "\n".join(lines).encode())

    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 2  # the line of empty cells is no row
    first, second = response.json()["report"]
    assert first["status"] == "created"
    assert (second["status"], second["errors"][0]["field"]) == ("error", "row")


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (b'{"given_name_en": "Noy"}', "application/json", "Content-Type"),
        ("given_name_en\nNo\xebl\n".encode("latin-1"), "text/csv", "file"),
        (b"", "text/csv", "file"),
    ],
)
async def test_only_a_utf8_csv_file_is_accepted(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    content: bytes,
    content_type: str,
    field: str,
) -> None:
    before = await _counts(migrated)

    response = await registry_client.post(
        "/v1/imports", content=content, headers={**auth, "Content-Type": content_type}
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await _counts(migrated) == before


async def test_uploading_the_same_file_again_creates_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    content = _csv([_row(), _row(national_id=_number("NID")), _row()])
    first = await _upload(registry_client, auth, content)
    assert first.json()["counts"] == {"created": 3}, first.text
    people, outbox, _ = await _counts(migrated)

    again = await _upload(registry_client, auth, content)

    assert again.status_code == 201, again.text
    assert again.json()["counts"] == {"already_imported": 3}
    assert [(r["row"], r["status"], r["person_id"]) for r in again.json()["report"]] == [
        (r["row"], "already_imported", r["person_id"]) for r in first.json()["report"]
    ]
    assert (await _counts(migrated))[:2] == (people, outbox)


async def test_a_resaved_copy_with_rows_and_columns_in_another_order_creates_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    rows = [_row(skills="welding"), _row(national_id=_number("NID")), _row(village="Ban Done")]
    first = await _upload(registry_client, auth, _csv(rows))
    ids = [r["person_id"] for r in first.json()["report"]]
    people, outbox, _ = await _counts(migrated)
    # Sorted by another column, columns moved about, saved again with a byte-order mark.
    resorted = [dict(reversed(list(row.items()))) for row in reversed(rows)]

    again = await _upload(registry_client, auth, _csv(resorted, bom=True, newline="\r\n"))

    assert again.status_code == 201, again.text
    assert [(r["status"], r["person_id"]) for r in again.json()["report"]] == [
        ("already_imported", person_id) for person_id in reversed(ids)
    ]
    assert (await _counts(migrated))[:2] == (people, outbox)


async def test_a_retried_upload_with_the_same_idempotency_key_gets_the_first_answer(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    content = _csv([_row(), _row()])
    key = {"Idempotency-Key": f"import-{uuid.uuid4()}"}
    first = await _upload(registry_client, auth, content, **key)
    assert first.status_code == 201, first.text
    before = await _counts(migrated)

    retried = await _upload(registry_client, auth, content, **key)

    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json()  # "created", not "already_imported"
    assert await _counts(migrated) == before  # not even a second batch


async def test_only_office_staff_may_import(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    analyst = bearer(migrated, "analyst-1", ["analyst"])

    response = await _upload(registry_client, analyst, _csv([_row()]))

    assert response.status_code == 403
