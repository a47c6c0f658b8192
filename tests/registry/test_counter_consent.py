"""Consents answered at the counter are taken with the registration, in its transaction, so
that nothing is ever sent before the person's answer is on record; the CSV import too."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared import clock
from tests.sealed import outbox_events
from tests.support import fetchval, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

REGISTERED = "lao.labourx.registry.person.registered.v1"
CONSENT_CHANGED = "lao.labourx.registry.person.consent_changed.v1"


async def _events(settings: Settings, person_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e["type"], e["data"]) for e in await outbox_events(settings, person_id)]


async def test_registration_records_the_consents_and_announces_them_after_the_person(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    consents = [
        {"purpose": "contact_sms", "status": "given", "method": "signed"},
        {"purpose": "contact_email", "status": "refused", "method": "signed"},
        {
            "purpose": "job_matching",
            "status": "given",
            "method": "thumbprint",
            "witness_name": "Khamla, village chief",
        },
        {
            "purpose": "partner_sharing",
            "status": "given",
            "method": "signed",
            "category": "un_agencies",
        },
    ]

    response = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(consents=consents), headers=auth
    )

    assert response.status_code == 201, response.text
    person_id = response.json()["id"]
    recorded = await registry_client.get(f"/v1/people/{person_id}/consents", headers=auth)
    assert {(c["purpose"], c["status"], c["method"]) for c in recorded.json()["items"]} == {
        ("contact_sms", "given", "signed"),
        ("contact_email", "refused", "signed"),
        ("job_matching", "given", "thumbprint"),
        ("partner_sharing", "given", "signed"),
    }
    events = await _events(migrated, person_id)
    assert [t for t, _ in events] == [REGISTERED] + [CONSENT_CHANGED] * 4
    registered = events[0][1]
    assert [(c["purpose"], c["status"]) for c in registered["consents"]] == [
        (c["purpose"], c["status"]) for c in consents
    ]
    assert registered["consents"][3]["category"] == "un_agencies"
    changes = [data for _, data in events[1:]]
    assert [(c["purpose"], c["status"], c["recorded_by"]) for c in changes] == [
        (c["purpose"], c["status"], "officer-vt-1") for c in consents
    ]
    assert {c["consent_id"] for c in changes} == {c["id"] for c in recorded.json()["items"]}


async def test_bad_consents_are_all_named_and_nothing_is_registered(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    yesterday = (clock.today() - timedelta(days=2)).isoformat()
    body = jobseeker(
        consents=[
            {"purpose": "contact_sms", "status": "given", "method": "verbal"},  # no witness
            {"purpose": "partner_sharing", "status": "given", "method": "signed"},  # no scope
            {
                "purpose": "job_matching",
                "status": "given",
                "method": "signed",
                "expires_on": yesterday,
            },
            {"purpose": "contact_sms", "status": "refused", "method": "signed"},  # twice
            {"purpose": "contact_email", "status": "given", "method": "signed", "category": "ngos"},
        ]
    )
    before = await fetchval(migrated, "registry", "SELECT count(*) FROM people")

    response = await registry_client.post("/v1/jobseekers", json=body, headers=auth)

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {
        "consents.0.witness_name",
        "consents.1.agency",
        "consents.2.expires_on",
        "consents.3",
        "consents.4.agency",
    }
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM people") == before


def _csv(rows: list[dict[str, str]]) -> bytes:
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(**cells: str) -> dict[str, str]:
    body = jobseeker()
    row = {k: body[k] for k in ("given_name_lo", "given_name_en", "sex", "date_of_birth", "phone")}
    return {**row, "province_code": "LA-VT", **cells}


async def test_the_import_takes_the_consent_columns(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    rows = [
        _row(
            consent_sms="yes",
            consent_email="no",
            consent_job_matching="ແມ່ນ",
            consent_partner_sharing="un_agencies;IOM-LA",
        ),
        _row(consent_sms="yes", consent_method="verbal"),  # a witness is needed
        _row(consent_partner_sharing="yes"),  # which partners?
        _row(consent_sms="maybe"),
    ]

    response = await registry_client.post(
        "/v1/imports", content=_csv(rows), headers={**auth, "Content-Type": "text/csv"}
    )

    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert [r["status"] for r in report] == ["created", "error", "error", "error"]
    assert [e["field"] for e in report[1]["errors"]] == ["consent_witness"]
    assert [e["field"] for e in report[2]["errors"]] == ["consent_partner_sharing"]
    assert [e["field"] for e in report[3]["errors"]] == ["consent_sms"]
    person_id = report[0]["person_id"]
    consents = await registry_client.get(f"/v1/people/{person_id}/consents", headers=auth)
    assert {
        (c["purpose"], c["status"], c["category"], c["agency"]) for c in consents.json()["items"]
    } == {
        ("contact_sms", "given", None, None),
        ("contact_email", "refused", None, None),
        ("job_matching", "given", None, None),
        ("partner_sharing", "given", "un_agencies", None),
        ("partner_sharing", "given", None, "IOM-LA"),
    }
    events = await _events(migrated, person_id)
    assert [t for t, _ in events] == [REGISTERED] + [CONSENT_CHANGED] * 5
