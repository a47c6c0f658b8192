"""Notify abused as a careless or hostile partner or admin would (issue 16, points 2, 6 and 7):
webhook URLs the sending client cannot parse, a second subscription to a stream, templates
that cannot render or ask for unbounded work, a preview reaching for a blocked attribute, and
a partner touching another's subscription or lifting an admin's hold.

Every case ends with a 4xx problem+json naming what is wrong, and notify's database unchanged:
the abuse suite's fingerprint (a digest of every row of every table, conftest.fingerprint) is
equal before and after. The objects are the fixture world's: partner A's webhook subscription
to registry.people, partner B's key intruding.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from tests.abuse.conftest import World, changed_tables, fingerprint
from tests.notify.test_partner_hardening import UNSENDABLE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

PROBLEM = "application/problem+json"


@asynccontextmanager
async def nothing_changes(world: World) -> AsyncIterator[None]:
    before = await fingerprint(world.settings, "notify")
    yield
    after = await fingerprint(world.settings, "notify")
    assert changed_tables(before, after) == []


def refused(answer: httpx.Response, status: int, fields: set[str] | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM), answer.headers
    if fields is not None:
        assert {e["field"] for e in answer.json()["errors"]} == fields, answer.text


async def test_a_webhook_url_the_client_cannot_parse_is_refused_and_nothing_is_saved(
    world: World,
) -> None:
    notify = world.clients["notify"]
    partner_a = world.ids["partner_id"]
    async with nothing_changes(world):
        for url in UNSENDABLE:
            for path, headers in (
                ("/v1/partners/me/subscriptions", world.intruders["partner"]),
                (f"/v1/partners/{partner_a}/subscriptions", world.owners["admin"]),
            ):
                answer = await notify.post(
                    path, json={"stream": "matching.vacancies", "webhook_url": url}, headers=headers
                )
                refused(answer, 422, {"webhook_url"})


async def test_a_second_subscription_to_a_stream_is_a_409_naming_the_first(world: World) -> None:
    notify = world.clients["notify"]
    existing = world.ids["subscription_id"]
    async with nothing_changes(world):
        for path, headers in (
            ("/v1/partners/me/subscriptions", world.owners["partner"]),
            (f"/v1/partners/{world.ids['partner_id']}/subscriptions", world.owners["admin"]),
        ):
            answer = await notify.post(path, json={"stream": "registry.people"}, headers=headers)
            refused(answer, 409)
            assert answer.json()["existing_subscription_id"] == existing


async def test_templates_that_cannot_render_or_ask_too_much_are_refused_naming_the_field(
    world: World,
) -> None:
    notify = world.clients["notify"]
    admin = world.owners["admin"]
    email = {"key": "certificate_issued", "channel": "email", "language": "en"}
    async with nothing_changes(world):
        for body, subject, fields in (
            ("{{ 'x' * 10000000 }}", "Certificate", {"body"}),
            ("{{ 9 ** (9 ** 9) }}", "{{ ''.__class__ }}", {"body", "subject"}),
            ("{% for i in range(100000) %}{{ name }}{% endfor %}", "Certificate", {"body"}),
            ("{{ name }}: {{ 1 / 0 }}", "{{ name.__class__.__mro__ }}", {"body", "subject"}),
        ):
            answer = await notify.post(
                "/v1/templates", json={**email, "subject": subject, "body": body}, headers=admin
            )
            refused(answer, 422, fields)
            preview = await notify.post(
                "/v1/templates/preview",
                json={**email, "subject": subject, "body": body},
                headers=admin,
            )
            refused(preview, 422, fields)


async def test_a_partner_cannot_disable_enable_or_delete_another_partners_subscription(
    world: World,
) -> None:
    notify = world.clients["notify"]
    sub = world.ids["subscription_id"]
    own = f"/v1/partners/me/subscriptions/{sub}"
    by_admin = f"/v1/partners/{world.ids['partner_id']}/subscriptions/{sub}"
    why = {"reason": "not mine to stop"}
    partner_b_key = {"X-API-Key": world.intruders["partner"]["X-API-Key"]}
    calls: list[tuple[str, str, dict[str, str] | None, dict[str, str], int]] = []
    for headers, status in (
        (partner_b_key, 401),  # a partner's key is no admin's token
        (world.intruders["partner"], 403),  # nor is a partner's token
        (world.intruders["esc_ch"], 403),
    ):
        calls += [
            ("POST", f"{by_admin}/disable", why, headers, status),
            ("POST", f"{by_admin}/enable", None, headers, status),
            ("DELETE", by_admin, None, headers, status),
        ]
    calls += [  # as if partner A's subscription did not exist
        ("POST", f"{own}/disable", why, partner_b_key, 404),
        ("POST", f"{own}/enable", None, partner_b_key, 404),
        ("DELETE", own, None, partner_b_key, 404),
    ]
    async with nothing_changes(world):
        for method, path, body, headers, status in calls:
            answer = await notify.request(method, path, json=body, headers=headers)
            assert answer.status_code == status, (method, path, headers.keys(), answer.text)
            assert answer.headers["content-type"].startswith(PROBLEM)


async def test_a_partner_cannot_lift_an_admins_hold(world: World) -> None:
    notify = world.clients["notify"]
    by_admin = (
        f"/v1/partners/{world.ids['partner_id']}/subscriptions/{world.ids['subscription_id']}"
    )
    held = await notify.post(
        f"{by_admin}/disable",
        json={"reason": "its webhooks are being looked into"},
        headers=world.owners["admin"],
    )
    assert held.status_code == 200, held.text
    try:
        async with nothing_changes(world):
            answer = await notify.post(
                f"/v1/partners/me/subscriptions/{world.ids['subscription_id']}/enable",
                headers=world.owners["partner"],
            )
            refused(answer, 409)
    finally:
        lifted = await notify.post(f"{by_admin}/enable", headers=world.owners["admin"])
        assert lifted.status_code == 200, lifted.text
        assert lifted.json()["status"] == "active", lifted.text
