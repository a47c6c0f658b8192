"""Erasure on the person's request: their personal data leaves every registry table."""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import asyncpg

from shared.db import asyncpg_dsn
from tests.sealed import opened_if_key
from tests.support import bearer, fetch, fetchval, full_registration, unique_names

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

ERASED = "lao.labourx.registry.person.erased.v1"
# Every column type that can hold a name, a number or a piece of a document or event.
TEXTUAL = ("text", "character varying", "character", "jsonb", "json", "ARRAY", "bytea")

# Syllables none of the other tests' names use, so a name found is this person's name.
_LO = ["ສຸ", "ວົງ", "ໄຊ", "ພູ", "ມີ", "ແສງ", "ຈັນ", "ທິ", "ລາ", "ນີ", "ບົວ", "ຫຼ້າ", "ອິນ", "ຄູນ", "ເພັດ", "ດີ"]
_EN = ["Sou", "Vong", "Xay", "Phou", "Mee", "Seng", "Chan", "Thi"]
_EN += ["La", "Ni", "Bua", "Lha", "In", "Khoun", "Phet", "Dee"]


def _name() -> tuple[str, str]:
    """A name in Lao script and its romanisation, drawn at random (16^6 of them)."""
    digits = [random.randrange(16) for _ in range(6)]
    return "".join(_LO[d] for d in digits), "".join(_EN[d] for d in digits).capitalize()


def _number(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def _person(**overrides: Any) -> dict[str, Any]:
    """A whole registration form with names, contacts and documents found nowhere else."""
    given_lo, given_en = _name()
    family_lo, family_en = _name()
    body = full_registration(
        given_name_lo=given_lo,
        given_name_en=given_en,
        family_name_lo=family_lo,
        family_name_en=family_en,
        email=f"{given_en.lower()}.{uuid.uuid4().hex[:6]}@example.la",
        documents=[
            {"kind": "national_id", "number": _number("NID")},
            {"kind": "family_book", "number": _number("FB")},
            {"kind": "passport", "number": _number("PA"), "expires_on": "2031-05-01"},
        ],
    )
    body.update(overrides)
    return body


def _personal(body: dict[str, Any]) -> set[str]:
    """What of a registration is personal data to look for, as the registry stores it."""
    values = {body[k] for k in ("given_name_lo", "family_name_lo", "given_name_en") if body.get(k)}
    values |= {
        body[k] for k in ("family_name_en", "email", "phone", "date_of_birth") if body.get(k)
    }
    values |= {d["number"] for d in body.get("documents", [])}
    return values


async def _where_found(settings: Settings, needles: set[str]) -> dict[str, set[str]]:
    """Each needle found in any text of any row of any registry table, with where it was.

    Generic on purpose: a table or column added later is searched without changing the test.
    """
    found: dict[str, set[str]] = defaultdict(set)
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url("registry")))
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = ANY($1::text[])"
            " ORDER BY table_name, ordinal_position",
            list(TEXTUAL),
        )
        by_table: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for column in columns:
            by_table[column["table_name"]].append((column["column_name"], column["data_type"]))
        for table, table_columns in by_table.items():
            # bytea (event payloads) is read raw and decoded here; the rest as Postgres text.
            selected = ", ".join(
                f'"{name}"' if kind == "bytea" else f'"{name}"::text'
                for name, kind in table_columns
            )
            for row in await conn.fetch(f'SELECT {selected} FROM "{table}"'):  # noqa: S608
                for (name, _), value in zip(table_columns, row, strict=True):
                    if value is None:
                        continue
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                    if table == "outbox" and name == "value":
                        # A sealed person event reads as what it seals while registry holds
                        # the person's key (tests/sealed.py): its data until the erasure.
                        opened = await opened_if_key(settings, json.loads(text))
                        text = json.dumps(opened, ensure_ascii=False)
                    # JSON may escape non-ASCII letters; look for both spellings.
                    text = (text + "\n" + json.dumps(text)).casefold()
                    for needle in needles:
                        if needle.casefold() in text:
                            found[needle].add(f"{table}.{name}")
    finally:
        await conn.close()
    return dict(found)


async def _register(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], **headers: str
) -> dict[str, Any]:
    response = await client.post("/v1/jobseekers", json=body, headers={**auth, **headers})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _erase(
    client: httpx.AsyncClient, auth: dict[str, str], person_id: str, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/v1/people/{person_id}/erasure",
        json={"reason": "written request ER-2026-0117"},
        headers={**auth, **headers},
    )


async def test_after_erasure_no_registry_table_holds_the_persons_data(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = _person()
    person = await _register(
        registry_client, auth, body, **{"Idempotency-Key": f"reg-{uuid.uuid4()}"}
    )
    pid = person["id"]
    witness_lo, witness_en = _name()
    consents = [
        {"purpose": "job_matching", "status": "given", "method": "signed"},
        {
            "purpose": "contact_sms",
            "status": "given",
            "method": "verbal",
            "witness_name": witness_en,
        },
        {
            "purpose": "partner_sharing",
            "scope": {"agency": "IOM-LA"},
            "status": "given",
            "method": "thumbprint",
            "witness_name": witness_lo,
            "note": f"explained in Lao to {body['given_name_lo']}",
        },
    ]
    for consent in consents:
        response = await registry_client.post(
            f"/v1/people/{pid}/consents",
            json=consent,
            headers={**auth, "Idempotency-Key": f"consent-{uuid.uuid4()}"},
        )
        assert response.status_code == 201, response.text
    passport, visa = _number("PM"), _number("V")
    migration = await registry_client.post(
        f"/v1/people/{pid}/migrations",
        json={
            "destination_country": "TH",
            "channel": "mou",
            "agency_code": "AG-017",
            "passport_number": passport,
            "passport_expires_on": "2030-02-01",
            "visa_number": visa,
        },
        headers={**auth, "Idempotency-Key": f"migration-{uuid.uuid4()}"},
    )
    assert migration.status_code == 201, migration.text
    new_phone = f"+856209{random.randrange(10**7):07d}"
    patched = await registry_client.patch(
        f"/v1/people/{pid}",
        json={"phone": new_phone, "village": "Ban Nongbone", "reason": "new SIM card"},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    needles = _personal(body) | {witness_lo, witness_en, passport, visa, new_phone}
    before = await _where_found(migrated, needles)
    # The search itself works: everything is there, in the places one would expect.
    assert set(before) == needles
    places = {place.split(".")[0] for spots in before.values() for place in spots}
    assert {"people", "identity_documents", "consents", "migration_records", "outbox"} <= places
    assert "idempotency_keys" in places

    response = await _erase(registry_client, auth, pid)

    assert response.status_code == 200, response.text
    assert response.json() == {"id": pid, "record_status": "erased"}
    assert await _where_found(migrated, needles) == {}
    [event] = await fetch(
        migrated,
        "registry",
        "SELECT type, value FROM outbox WHERE key = $1 AND topic = 'registry.people'",
        pid,
    )
    assert event["type"] == ERASED
    data = json.loads(event["value"])["data"]
    assert (data["person_id"], data["erased_by"]) == (pid, "officer-vt-1")
    assert (await registry_client.get(f"/v1/people/{pid}", headers=auth)).status_code == 410
    assert (
        await registry_client.get(f"/v1/people/{pid}/consents", headers=auth)
    ).status_code == 410
    [audit] = await fetch(
        migrated,
        "registry",
        "SELECT actor, reason FROM audit_log WHERE person_id = $1::uuid AND action = 'erased'",
        pid,
    )
    assert dict(audit) == {"actor": "officer-vt-1", "reason": "written request ER-2026-0117"}


async def test_the_tombstone_keeps_only_what_the_counts_need(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = _person(sex="female", province_code="LA-VT")
    person = await _register(registry_client, auth, body)
    counts = (
        "SELECT province_code, sex, birth_year, office_code, count(*) AS n FROM people"
        " WHERE record_status <> 'merged' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    )
    before = [dict(r) for r in await fetch(migrated, "registry", counts)]

    assert (await _erase(registry_client, auth, person["id"])).status_code == 200

    assert [dict(r) for r in await fetch(migrated, "registry", counts)] == before
    [tombstone] = await fetch(
        migrated, "registry", "SELECT * FROM people WHERE id = $1::uuid", person["id"]
    )
    assert tombstone["record_status"] == "erased"
    assert tombstone["erased_at"] is not None
    assert (tombstone["sex"], tombstone["province_code"], tombstone["office_code"]) == (
        "female",
        "LA-VT",
        "ESC-VT",
    )
    assert tombstone["birth_year"] == int(body["date_of_birth"][:4])
    for field in ("given_name_lo", "given_name_en", "date_of_birth", "phone", "email", "village"):
        assert tombstone[field] is None, field
    assert tombstone["name_tokens"] == []
    assert json.loads(tombstone["skills"]) == []
    listed = await registry_client.get(
        "/v1/people", params={"q": body["given_name_en"]}, headers=auth
    )
    assert listed.json()["items"] == []


async def test_erasure_retried_with_the_same_key_gets_the_first_answer(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth, _person())
    key = {"Idempotency-Key": f"erase-{uuid.uuid4()}"}

    first = await _erase(registry_client, auth, person["id"], **key)
    retried = await _erase(registry_client, auth, person["id"], **key)
    without_key = await _erase(registry_client, auth, person["id"])

    assert first.status_code == retried.status_code == 200, retried.text
    assert retried.json() == first.json()
    assert retried.headers["idempotent-replayed"] == "true"
    assert without_key.status_code == 410  # a new request for an erased person
    events = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM outbox WHERE key = $1 AND topic = 'registry.people'",
        person["id"],
    )
    erasures = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM audit_log WHERE person_id = $1::uuid AND action = 'erased'",
        person["id"],
    )
    assert (events, erasures) == (1, 1)


async def test_an_officer_of_another_province_cannot_erase(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    body = _person()
    person = await _register(registry_client, auth, body)
    savannakhet = bearer(migrated, "officer-sv", ["esc_staff"], office="ESC-SV")

    response = await _erase(registry_client, savannakhet, person["id"])

    assert response.status_code == 403
    assert (
        await registry_client.get(f"/v1/people/{person['id']}", headers=auth)
    ).status_code == 200
    assert set(await _where_found(migrated, _personal(body))) == _personal(body)


async def test_the_data_of_records_merged_into_the_person_goes_too(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    born = unique_names()["date_of_birth"]
    lao_only = {"given_name_en": None, "family_name_en": None}
    kept = await _register(registry_client, auth, _person(date_of_birth=born, **lao_only))
    # Two more records of her, each registered before anyone noticed; one was merged into the
    # other, which was then merged into the record kept.
    first_copy, second_copy = (
        _person(date_of_birth=born, confirm_not_duplicate=True) for _ in range(2)
    )
    first = await _register(registry_client, auth, first_copy)
    second = await _register(registry_client, auth, second_copy)
    consent = await registry_client.post(
        f"/v1/people/{second['id']}/consents",
        json={
            "purpose": "contact_sms",
            "status": "given",
            "method": "verbal",
            "witness_name": "Khamla Douangmala",
        },
        headers={**auth, "Idempotency-Key": f"consent-{uuid.uuid4()}"},
    )
    assert consent.status_code == 201, consent.text
    for survivor, duplicate in ((first, second), (kept, first)):
        merged = await registry_client.post(
            f"/v1/people/{survivor['id']}/merge",
            json={"duplicate_id": duplicate["id"], "reason": "same person"},
            headers=auth,
        )
        assert merged.status_code == 200, merged.text
    needles = _personal(first_copy) | _personal(second_copy) | {"Khamla Douangmala"}
    assert set(await _where_found(migrated, needles)) == needles

    response = await _erase(registry_client, auth, kept["id"])

    assert response.status_code == 200, response.text
    assert await _where_found(migrated, needles) == {}
    for old_id in (first["id"], second["id"]):
        assert (await registry_client.get(f"/v1/people/{old_id}", headers=auth)).status_code == 410
        # Services that kept a copy under the old id (notify's contact) are told to purge it.
        [event] = await fetch(
            migrated,
            "registry",
            "SELECT type FROM outbox WHERE key = $1 AND topic = 'registry.people'",
            old_id,
        )
        assert event["type"] == ERASED
