"""The audit trail: who read or changed whose record, from where and why, and nothing more."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from shared.db import asyncpg_dsn
from tests.support import bearer, fetch, fetchval, full_registration, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

ENTRIES = (
    "SELECT id, actor, office_code, action, fields, reason, request_id FROM audit_log"
    " WHERE person_id = $1::uuid ORDER BY id"
)


async def _register(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/v1/jobseekers", json=body or jobseeker(), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _entries(settings: Settings, person_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await fetch(settings, "registry", ENTRIES, person_id)]


def _admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, "admin-1", ["admin"])


def _officer(settings: Settings) -> tuple[str, dict[str, str]]:
    """A Vientiane officer of their own, so that what they did can be told apart."""
    subject = f"officer-{uuid.uuid4().hex[:8]}"
    return subject, bearer(settings, subject, ["esc_staff"], office="ESC-VT")


async def test_every_read_of_a_record_is_logged_with_who_from_where(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    subject, officer = _officer(migrated)
    reads = [
        f"/v1/people/{person['id']}",
        f"/v1/people?q={person['given_name_en']}",
        f"/v1/people/{person['id']}/consents",
        f"/v1/people/{person['id']}/migrations",
    ]

    for path in reads:
        response = await registry_client.get(path, headers=officer)
        assert response.status_code == 200, response.text

    entries = [e for e in await _entries(migrated, person["id"]) if e["actor"] == subject]
    assert [e["action"] for e in entries] == ["read", "listed", "consents_read", "migration_read"]
    assert {e["office_code"] for e in entries} == {"ESC-VT"}
    assert all(e["request_id"] for e in entries)
    assert len({e["request_id"] for e in entries}) == len(reads)  # one request each


async def test_a_read_records_the_reason_the_officer_gave(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)

    response = await registry_client.get(
        f"/v1/people/{person['id']}",
        params={"reason": "call from the ESC hotline, ticket 4471"},
        headers={**auth, "X-Request-Id": "req-audit-reason-1"},
    )

    assert response.status_code == 200
    read = (await _entries(migrated, person["id"]))[-1]
    assert read == {
        "id": read["id"],
        "actor": "officer-vt-1",
        "office_code": "ESC-VT",
        "action": "read",
        "fields": [],
        "reason": "call from the ESC hotline, ticket 4471",
        "request_id": "req-audit-reason-1",
    }


async def test_a_listing_logs_each_person_shown_and_no_one_else(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    shown = await _register(registry_client, auth)
    not_shown = await _register(registry_client, auth)

    response = await registry_client.get(
        "/v1/people", params={"q": shown["given_name_en"]}, headers=auth
    )

    assert [p["id"] for p in response.json()["items"]] == [shown["id"]]
    assert "listed" in [e["action"] for e in await _entries(migrated, shown["id"])]
    assert "listed" not in [e["action"] for e in await _entries(migrated, not_shown["id"])]


async def test_every_change_is_logged_with_the_names_of_the_fields_changed(
    registry_client: httpx.AsyncClient, migrated: Settings
) -> None:
    subject, officer = _officer(migrated)
    person = await _register(registry_client, officer)

    patched = await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={"village": "Ban Sokpaluang", "phone": "+856 20 9876 0011", "reason": "moved"},
        headers=officer,
    )
    consent = await registry_client.post(
        f"/v1/people/{person['id']}/consents",
        json={"purpose": "contact_sms", "status": "given", "method": "signed"},
        headers=officer,
    )

    assert patched.status_code == 200, patched.text
    assert consent.status_code == 201, consent.text
    changes = [
        (e["action"], e["fields"], e["reason"])
        for e in await _entries(migrated, person["id"])
        if e["action"] != "read"
    ]
    registered = ["given_name_lo", "family_name_lo", "given_name_en", "family_name_en", "sex"]
    assert changes[0][0] == "registered"
    assert set(registered) <= set(changes[0][1])  # the parts of the form filled in
    assert changes[1:] == [
        ("updated", ["phone", "village"], "moved"),
        ("consent_recorded", ["contact_sms"], None),
    ]
    actors = {(e["actor"], e["office_code"]) for e in await _entries(migrated, person["id"])}
    assert actors == {(subject, "ESC-VT")}


async def test_a_refused_change_leaves_no_entry(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    before = await _entries(migrated, person["id"])

    stale = await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={"district": "Xaysetha"},
        headers={**auth, "If-Match": '"99"'},
    )
    too_young = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"date_of_birth": "2020-01-01"}, headers=auth
    )

    assert (stale.status_code, too_young.status_code) == (412, 422)
    assert await _entries(migrated, person["id"]) == before


async def test_the_trail_holds_no_personal_data(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = full_registration()
    person = await _register(registry_client, auth, body)
    await registry_client.get(f"/v1/people/{person['id']}?reason=follow-up", headers=auth)
    await registry_client.get(f"/v1/people?q={body['given_name_en']}", headers=auth)
    await registry_client.patch(
        f"/v1/people/{person['id']}",
        json={"email": "new.address@example.la", "village": "Ban Thongkhankham"},
        headers=auth,
    )
    consent = await registry_client.post(
        f"/v1/people/{person['id']}/consents",
        json={
            "purpose": "job_matching",
            "status": "given",
            "method": "verbal",
            "witness_name": "Vilayvanh Inthavong",
        },
        headers=auth,
    )
    assert consent.status_code == 201, consent.text
    personal = [
        body["given_name_lo"],
        body["given_name_en"],
        body["family_name_lo"],
        body["family_name_en"],
        person["phone"],
        body["email"],
        "new.address@example.la",
        "Ban Thongkhankham",
        "Vilayvanh",
        body["date_of_birth"],
        *(d["number"] for d in body["documents"]),
    ]

    rows = await fetch(
        migrated,
        "registry",
        "SELECT a::text AS row FROM audit_log a WHERE person_id = $1::uuid",
        person["id"],
    )

    assert len(rows) >= 5
    for row in rows:
        text = row["row"].casefold()
        assert [p for p in personal if p.casefold() in text] == [], row["row"]


async def test_admins_page_through_a_persons_trail_newest_first(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    for _ in range(3):
        await registry_client.get(f"/v1/people/{person['id']}", headers=auth)
    expected = [e["id"] for e in reversed(await _entries(migrated, person["id"]))]
    assert len(expected) == 4

    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"person_id": person["id"], "limit": 2}
    while True:
        response = await registry_client.get("/v1/audit", params=params, headers=_admin(migrated))
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        if response.json()["next_before_id"] is None:
            break
        params["before_id"] = response.json()["next_before_id"]

    assert [len(page) for page in pages] == [2, 2]  # a full last page says it is the last
    assert [e["id"] for page in pages for e in page] == expected
    oldest = pages[-1][-1]
    assert (oldest["action"], oldest["actor"], oldest["person_id"]) == (
        "registered",
        "officer-vt-1",
        person["id"],
    )


async def test_admins_see_what_one_officer_did(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    subject, officer = _officer(migrated)
    someone = await _register(registry_client, auth)
    theirs = await _register(registry_client, officer)
    await registry_client.get(f"/v1/people/{someone['id']}", headers=officer)

    response = await registry_client.get(
        "/v1/audit", params={"actor": subject}, headers=_admin(migrated)
    )

    assert response.status_code == 200, response.text
    assert [(e["action"], e["person_id"]) for e in response.json()["items"]] == [
        ("read", someone["id"]),
        ("registered", theirs["id"]),
    ]
    assert response.json()["next_before_id"] is None


async def test_only_admins_query_the_trail_and_they_must_say_whose(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)

    staff = await registry_client.get("/v1/audit", params={"person_id": person["id"]}, headers=auth)
    unfiltered = await registry_client.get("/v1/audit", headers=_admin(migrated))

    assert staff.status_code == 403
    assert unfiltered.status_code == 422
    assert unfiltered.json()["errors"][0]["field"] == "person_id"


async def test_an_overlong_request_id_does_not_fail_the_audited_request(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)

    response = await registry_client.get(
        f"/v1/people/{person['id']}", headers={**auth, "X-Request-Id": "r" * 300}
    )

    assert response.status_code == 200, response.text
    read = (await _entries(migrated, person["id"]))[-1]
    assert (read["action"], read["request_id"]) == ("read", response.headers["x-request-id"])
    assert len(read["request_id"]) <= 64


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'tidied up' WHERE person_id = $1::uuid",
        "DELETE FROM audit_log WHERE person_id = $1::uuid",
        "TRUNCATE audit_log",
    ],
)
async def test_the_database_refuses_to_change_or_remove_entries(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings, statement: str
) -> None:
    person = await _register(registry_client, auth)
    before = await _entries(migrated, person["id"])
    total = await fetchval(migrated, "registry", "SELECT count(*) FROM audit_log")
    conn = await asyncpg.connect(asyncpg_dsn(migrated.service_database_url("registry")))
    try:
        args = [person["id"]] if "$1" in statement else []
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement, *args)
    finally:
        await conn.close()

    assert await _entries(migrated, person["id"]) == before
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM audit_log") == total


async def test_reading_one_migration_record_is_logged(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    opened = await registry_client.post(
        f"/v1/people/{person['id']}/migrations",
        json={"destination_country": "TH", "channel": "mou", "passport_number": "PX4455667"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    before = len(await _entries(migrated, person["id"]))

    response = await registry_client.get(f"/v1/migrations/{opened.json()['id']}", headers=auth)

    assert response.status_code == 200
    assert [e["action"] for e in await _entries(migrated, person["id"])][before:] == [
        "migration_read"
    ]


async def test_a_patch_that_changes_nothing_still_logs_the_record_it_answers_with(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    before = len(await _entries(migrated, person["id"]))

    response = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"sex": person["sex"]}, headers=auth
    )

    assert response.status_code == 200
    assert response.json()["given_name_en"] == person["given_name_en"]  # the whole record
    assert len(await _entries(migrated, person["id"])) == before + 1


async def test_a_client_request_id_that_is_too_long_or_odd_is_replaced(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for sent in ("x" * 65, "two words", "<script>"):
        response = await registry_client.get(
            "/v1/people?limit=1", headers={**auth, "X-Request-Id": sent}
        )

        assert response.status_code == 200
        assert response.headers["x-request-id"] != sent
        assert len(response.headers["x-request-id"]) <= 64
