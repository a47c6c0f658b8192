"""An office serving a person of another province: a visit recorded there, or an enrolment in
one of its sessions; then its staff read and act on the person, each access audited with the
office and the basis. And a record taken over when the person moved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.events.predeparture import EnrolmentChanged
from tests.sealed import outbox_events
from tests.support import bearer, deliver, fetch, fetchval, jobseeker

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

SERVED_AT = "lao.labourx.registry.person.served_at.v1"
UPDATED = "lao.labourx.registry.person.updated.v1"


def _mrc_sv(settings: Settings, subject: str | None = None) -> dict[str, str]:
    return bearer(
        settings, subject or f"mrc-sv-{uuid.uuid4().hex[:6]}", ["mrc_staff"], office="MRC-SV"
    )


async def _register(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict:
    response = await client.post("/v1/jobseekers", json=jobseeker(**body), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _events(settings: Settings, person_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e["data"] for e in await outbox_events(settings, person_id, event_type)]


async def test_a_visit_makes_an_office_of_another_province_serve_the_person(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    path = f"/v1/people/{person['id']}"
    officer = _mrc_sv(migrated, "mrc-sv-visit")
    before = await registry_client.get(path, headers=officer)

    visit = await registry_client.post(
        f"/v1/people/{person['reference']}/visits",
        json={"reason": "came for orientation"},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    again = await registry_client.post(
        f"{path}/visits", json={"reason": "second visit"}, headers=officer
    )
    answers = {
        "read": await registry_client.get(path, headers=officer),
        "update": await registry_client.patch(path, json={"village": "Ban Naxay"}, headers=officer),
        "consents": await registry_client.get(f"{path}/consents", headers=officer),
        "consent": await registry_client.post(
            f"{path}/consents",
            json={"purpose": "contact_sms", "status": "given", "method": "signed"},
            headers=officer,
        ),
        "migrations": await registry_client.get(f"{path}/migrations", headers=officer),
        "open migration": await registry_client.post(
            f"{path}/migrations",
            json={"destination_country": "TH", "channel": "mou", "agency_code": "AG-1"},
            headers=officer,
        ),
    }
    listed = await registry_client.get("/v1/people?limit=200", headers=officer)

    assert before.status_code == 403
    assert visit.status_code == 201, visit.text
    assert visit.json()["served_as"] == "visit"
    assert visit.json()["linked_now"] is True
    assert again.status_code == 200
    assert again.json()["linked_now"] is False
    assert {k: a.status_code for k, a in answers.items()} == {
        "read": 200,
        "update": 200,
        "consents": 200,
        "consent": 201,
        "migrations": 200,
        "open migration": 201,
    }, {k: a.text for k, a in answers.items() if a.status_code >= 400}
    assert person["id"] in {p["id"] for p in listed.json()["items"]}
    [served] = await _events(migrated, person["id"], SERVED_AT)
    assert (served["office_code"], served["office_province_code"], served["basis"]) == (
        "MRC-SV",
        "LA-SV",
        "visit",
    )
    assert served["recorded_by"] == "mrc-sv-visit"
    entries = await fetch(
        migrated,
        "registry",
        "SELECT action, office_code, basis FROM audit_log"
        " WHERE person_id = $1::uuid AND actor = 'mrc-sv-visit' ORDER BY id",
        person["id"],
    )
    actions = {e["action"] for e in entries}
    assert {"served_at", "visit_recorded", "read", "updated", "consent_recorded"} <= actions
    assert {(e["office_code"], e["basis"]) for e in entries} == {("MRC-SV", "visit")}


async def test_a_visit_at_an_office_of_the_persons_province_links_nothing(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    own = bearer(migrated, "mrc-vt-1", ["mrc_staff"], office="MRC-VT")

    visit = await registry_client.post(
        f"/v1/people/{person['id']}/visits", json={"reason": "counselling"}, headers=own
    )

    assert visit.status_code == 200, visit.text
    assert visit.json()["served_as"] == "province"
    assert await _events(migrated, person["id"], SERVED_AT) == []


async def test_an_enrolment_in_another_provinces_session_makes_its_office_serve_the_person(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    producer: AIOKafkaProducer,
    registry_consumer: None,
) -> None:
    person = await _register(registry_client, auth)
    person_id = uuid.UUID(person["id"])
    officer = _mrc_sv(migrated)

    def enrolment(status: str, office: str = "MRC-SV") -> EnrolmentChanged:
        session_id = uuid.uuid4()
        return EnrolmentChanged(
            enrolment_id=uuid.uuid5(person_id, str(session_id)),
            session_id=session_id,
            person_id=person_id,
            status=status,
            office_code=office,
            starts_at=datetime.now(UTC),
            venue="MRC Savannakhet",
            language="lo",
            changed_by="mrc-sv-enrol",
            changed_at=datetime.now(UTC),
        )

    cancelled = enrolment("cancelled")
    await deliver(producer, migrated, "registry", cancelled)
    before = await registry_client.get(f"/v1/people/{person['id']}", headers=officer)
    enrolled = enrolment("enrolled")
    envelope = await deliver(producer, migrated, "registry", enrolled)
    # Redelivered, and enrolled once more in another session of the same office.
    await deliver(producer, migrated, "registry", enrolled.model_copy())
    await deliver(producer, migrated, "registry", enrolment("waitlisted"))
    after = await registry_client.get(f"/v1/people/{person['id']}", headers=officer)

    assert before.status_code == 403
    assert after.status_code == 200, after.text
    [served] = await _events(migrated, person["id"], SERVED_AT)
    assert (served["office_code"], served["basis"], served["recorded_by"]) == (
        "MRC-SV",
        "enrolment",
        "mrc-sv-enrol",
    )
    link = await fetch(
        migrated,
        "registry",
        "SELECT office_code, basis FROM service_links WHERE person_id = $1::uuid",
        person["id"],
    )
    assert [tuple(r) for r in link] == [("MRC-SV", "enrolment")]
    assert envelope.subject == person["id"]


async def test_taking_a_record_over_moves_it_to_the_officers_office_and_province(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    officer = bearer(migrated, "esc-sv-takeover", ["esc_staff"], office="ESC-SV")

    moved = await registry_client.post(
        f"/v1/people/{person['reference']}/transfer",
        json={"reason": "moved to Kaysone Phomvihane"},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    again = await registry_client.post(
        f"/v1/people/{person['id']}/transfer", json={"reason": "again"}, headers=officer
    )
    old_office = await registry_client.get(f"/v1/people/{person['id']}", headers=auth)
    new_office = await registry_client.get(f"/v1/people/{person['id']}", headers=officer)

    assert moved.status_code == 200, moved.text
    assert (moved.json()["province_code"], moved.json()["office_code"]) == ("LA-SV", "ESC-SV")
    assert again.status_code == 409
    assert old_office.status_code == 403
    assert new_office.status_code == 200
    [update] = await _events(migrated, person["id"], UPDATED)
    assert update["changed_fields"] == ["office_code", "province_code"]
    assert update["province_code"] == "LA-SV"
    audited = await fetch(
        migrated,
        "registry",
        "SELECT office_code, basis, fields, reason FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'transferred'",
        person["id"],
    )
    assert [tuple(r) for r in audited] == [
        ("ESC-SV", "card", ["office_code", "province_code"], "moved to Kaysone Phomvihane")
    ]


async def test_visits_and_takeovers_need_a_reason_and_an_office(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = await _register(registry_client, auth)
    national = bearer(migrated, "ministry-x", ["esc_staff"], national=True)

    no_reason = await registry_client.post(
        f"/v1/people/{person['id']}/visits", json={}, headers=_mrc_sv(migrated)
    )
    no_office = await registry_client.post(
        f"/v1/people/{person['id']}/transfer", json={"reason": "moved"}, headers=national
    )

    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert no_office.status_code == 403
    assert (
        await fetchval(
            migrated,
            "registry",
            "SELECT province_code FROM people WHERE id = $1::uuid",
            person["id"],
        )
        == "LA-VT"
    )
