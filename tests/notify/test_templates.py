"""Templates: versions through the API, checked when saved, previewed with their SMS length."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from shared.events.predeparture import OrientationRequired
from tests.notify.conftest import admin, esc_staff, registered, send
from tests.notify.test_messages import NOW, messages
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


async def test_staff_read_the_templates_in_use_for_every_message_in_lao_and_english(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    answer = await notify_client.get("/v1/templates", headers=esc_staff(migrated))
    assert answer.status_code == 200
    have = {(t["key"], t["channel"], t["language"]) for t in answer.json()["items"]}
    for key in (
        "welcome",
        "welcome_migrant",
        "referral",
        "interview",
        "offer",
        "orientation_required",
        "orientation_invitation",
        "orientation_waitlisted",
        "orientation_cancelled",
        "session_changed",
        "certificate_issued",
        "placement_confirmed",
        "return_reminder",
    ):
        for channel in ("sms", "email"):
            assert {(key, channel, "lo"), (key, channel, "en")} <= have


@pytest.mark.usefixtures("notify_consumer")
async def test_an_admin_adds_a_version_and_the_next_message_uses_it(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    body = {
        "key": "orientation_required",
        "channel": "sms",
        "language": "en",
        "body": "{{ name }}: orientation needed before {{ destination }}. Call your MRC.",
    }
    created = await notify_client.post(
        "/v1/templates", json=body, headers=admin(migrated) | {"Idempotency-Key": "tpl-or-1"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 2
    assert created.json()["created_by"] == "admin-1"
    again = await notify_client.post(
        "/v1/templates", json=body, headers=admin(migrated) | {"Idempotency-Key": "tpl-or-1"}
    )
    assert again.json()["id"] == created.json()["id"]  # a retried save adds nothing

    versions = await notify_client.get(
        "/v1/templates/orientation_required/sms/en/versions", headers=esc_staff(migrated)
    )
    assert [v["version"] for v in versions.json()["items"]] == [2, 1]

    person = await registered(producer, migrated, preferred_language="en", email=None)
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="MY", reason="offered", recorded_at=NOW
        ),
    )
    last = (await messages(migrated, person))[-1]
    assert last["body"].endswith("orientation needed before Malaysia. Call your MRC.")


async def test_a_template_with_an_unknown_variable_or_bad_syntax_is_refused_naming_the_field(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    unknown = await notify_client.post(
        "/v1/templates",
        json={"key": "welcome", "channel": "sms", "language": "lo", "body": "{{ nmae }}"},
        headers=admin(migrated),
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    [error] = unknown.json()["errors"]
    assert error["field"] == "body"
    assert "nmae" in error["message"]

    broken = await notify_client.post(
        "/v1/templates",
        json={
            "key": "welcome",
            "channel": "email",
            "language": "en",
            "body": "Hello {{ name ",
        },
        headers=admin(migrated),
    )
    assert broken.status_code == 422
    assert {e["field"] for e in broken.json()["errors"]} == {"body", "subject"}

    no_key = await notify_client.post(
        "/v1/templates",
        json={"key": "lottery", "channel": "sms", "language": "lo", "body": "x"},
        headers=admin(migrated),
    )
    assert no_key.status_code == 422
    assert "key" in no_key.text


async def test_only_admins_edit_templates(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    path = "/v1/templates/welcome/sms/lo/versions"
    before = (await notify_client.get(path, headers=esc_staff(migrated))).json()["items"]
    answer = await notify_client.post(
        "/v1/templates",
        json={"key": "welcome", "channel": "sms", "language": "lo", "body": "{{ name }}"},
        headers=esc_staff(migrated),
    )
    assert answer.status_code == 403
    versions = await notify_client.get(path, headers=esc_staff(migrated))
    assert versions.json()["items"] == before


async def test_the_preview_counts_lao_sms_in_ucs2_parts_of_seventy(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    lao = await notify_client.post(
        "/v1/templates/preview",
        json={"key": "welcome", "channel": "sms", "language": "lo"},
        headers=admin(migrated),
    )
    assert lao.status_code == 200, lao.text
    preview = lao.json()
    assert preview["text"].startswith("ສະບາຍດີ ສົມສັກ!")
    assert preview["encoding"] == "UCS-2"
    assert preview["characters"] == len(preview["text"]) > 70
    assert preview["segments"] == -(-preview["units"] // 67)

    draft = await notify_client.post(
        "/v1/templates/preview",
        json={
            "key": "welcome",
            "channel": "sms",
            "language": "en",
            "body": "Hi {{ name }}, ref {{ reference }}",
            "values": {"name": "Somsak"},
        },
        headers=admin(migrated),
    )
    assert draft.status_code == 200, draft.text
    assert (draft.json()["text"], draft.json()["encoding"], draft.json()["segments"]) == (
        "Hi Somsak, ref P-7K3M9Q2X",
        "GSM-7",
        1,
    )

    email = await notify_client.post(
        "/v1/templates/preview",
        json={"key": "certificate_issued", "channel": "email", "language": "en"},
        headers=admin(migrated),
    )
    assert email.json()["subject"] == "Your orientation certificate"
    assert email.json()["segments"] is None


# --- what a template may do (issue 16) ------------------------------------------------------------


async def versions_of(settings: Settings, key: str) -> int:
    return int(
        await fetchval(settings, "notify", "SELECT count(*) FROM templates WHERE key = $1", key)
    )


async def test_a_template_that_cannot_render_is_refused_when_saved_naming_each_field(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    """Saving renders the text with the key's sample values: what is saved renders."""
    before = await versions_of(migrated, "certificate_issued")
    for body, subject, fields in (
        ("{{ name }}: {{ 1 / 0 }}", "{{ name.__class__ }}", {"body", "subject"}),
        ("{{ name|int + 'x' }}", "Certificate {{ certificate_number }}", {"body"}),
        ("{{ 'x' * 10000000 }}", "Certificate", {"body"}),  # 1.2 s and 10 MB before
        ("{% for i in range(100000) %}{{ name }}{% endfor %}", "Certificate", {"body"}),
        ("{{ name }}", "{{ 9 ** (9 ** 9) }}", {"subject"}),
        ("{{ name|center(1000000000) }}", "Certificate", {"body"}),
    ):
        refused = await notify_client.post(
            "/v1/templates",
            json={
                "key": "certificate_issued",
                "channel": "email",
                "language": "en",
                "subject": subject,
                "body": body,
            },
            headers=admin(migrated),
        )
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in refused.json()["errors"]} == fields, (body, refused.text)
    assert await versions_of(migrated, "certificate_issued") == before


async def test_a_preview_touching_a_blocked_attribute_or_asking_too_much_is_a_422_naming_body(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for body in (
        "{{ ''.__class__ }}",
        "{{ name.__class__.__mro__[1].__subclasses__() }}",
        "{{ name.format(1) }}",
        "{{ name * 10000000 }}",
    ):
        answer = await notify_client.post(
            "/v1/templates/preview",
            json={"key": "welcome", "channel": "sms", "language": "en", "body": body},
            headers=admin(migrated),
        )
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == ["body"], body

    # Values given for a preview are rendered under the same bounds.
    long_name = await notify_client.post(
        "/v1/templates/preview",
        json={
            "key": "welcome",
            "channel": "sms",
            "language": "en",
            "body": "{{ name * 100 }}",
            "values": {"name": "x" * 1000},
        },
        headers=admin(migrated),
    )
    assert long_name.status_code == 422
    assert [e["field"] for e in long_name.json()["errors"]] == ["body"]


@pytest.mark.usefixtures("notify_consumer")
async def test_a_message_whose_values_the_template_cannot_render_fails_alone(
    notify_client: httpx.AsyncClient, migrated: Settings, producer: AIOKafkaProducer
) -> None:
    """The sample name renders within the bounds, a longer real one does not: that message
    fails with why (and a MessageFailed), the event's email goes out as usual."""
    body = "{{ name * 3000 }}"  # the sample name (6 letters): 18,000 characters
    saved = await notify_client.post(
        "/v1/templates",
        json={"key": "orientation_required", "channel": "sms", "language": "th", "body": body},
        headers=admin(migrated),
    )
    assert saved.status_code == 201, saved.text
    person = await registered(producer, migrated, preferred_language="th", given_en="Somsak-TH")
    await send(
        producer,
        migrated,
        OrientationRequired(
            person_id=person, destination_country="MY", reason="offered", recorded_at=NOW
        ),
    )
    rows = [r for r in await messages(migrated, person) if r["template_key"] != "welcome"]
    by_channel = {r["channel"]: r for r in rows}
    assert by_channel["sms"]["status"] == "failed"
    assert by_channel["sms"]["body"] == ""
    assert by_channel["email"]["status"] == "queued"
    assert by_channel["email"]["body"]
    [failed] = await fetch(
        migrated,
        "notify",
        "SELECT id, last_error FROM messages WHERE person_id = $1 AND channel = 'sms'"
        " AND template_key = 'orientation_required'",
        person,
    )
    assert failed["last_error"].startswith(f"template_error: template {saved.json()['id']}")
    [event] = await fetch(
        migrated, "notify", "SELECT value FROM outbox WHERE key = $1", str(failed["id"])
    )
    document = json.loads(event["value"])
    assert document["type"] == "lao.labourx.notify.message.failed.v1"
    assert document["data"]["error_code"] == "template_error"
