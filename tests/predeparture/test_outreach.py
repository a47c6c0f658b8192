"""Outreach in communities: MRC staff record a village session as anonymous head counts by sex
and age band, read back with totals; bad records are refused naming the field and write nothing;
only staff of the office record its outreach; every reader reads."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.clock import today
from tests.predeparture.conftest import admin, analyst, esc_officer, mrc_staff
from tests.support import bearer, fetchval

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

SESSIONS_IN_VILLAGE = "SELECT count(*) FROM outreach_sessions WHERE village = $1"


def outreach_body(**overrides: Any) -> dict[str, Any]:
    """A valid outreach record in a village of its own (the village name is unique)."""
    body: dict[str, Any] = {
        "office_code": "MRC-SV",
        "district": "Xaybouly",
        "village": f"Ban Nonsomboun {uuid.uuid4().hex[:8]}",
        "held_on": (today() - timedelta(days=2)).isoformat(),
        "facilitator": "Ms Chanthavong",
        "language": "lo",
        "topics": ["safe_migration", "trafficking", "help_lines"],
        "note": "Held at the village temple after the harvest",
        "counts": [
            {"sex": "female", "age_band": "15-17", "people": 4},
            {"sex": "female", "age_band": "18-24", "people": 11},
            {"sex": "male", "age_band": "18-24", "people": 9},
            {"sex": "male", "age_band": "25-34", "people": 3},
            {"sex": "other", "age_band": "18-24", "people": 1},
        ],
    }
    return body | overrides


async def record(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/v1/outreach", json=outreach_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_mrc_staff_record_an_outreach_session_and_read_it_with_totals(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = outreach_body(topics=["safe_migration", "trafficking", "safe_migration"])
    response = await predeparture_client.post(
        "/v1/outreach", json=body, headers=mrc_staff(migrated)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["office_code"] == "MRC-SV"
    assert created["province_code"] == "LA-SV"  # from the office, not from the form
    assert created["topics"] == ["safe_migration", "trafficking"]
    assert created["recorded_by"] == "mrc-sv-1"

    read = await predeparture_client.get(
        f"/v1/outreach/{created['id']}", headers=esc_officer(migrated, "LA-VT")
    )
    assert read.status_code == 200
    outreach = read.json()
    assert outreach == created
    assert outreach["totals"] == {
        "people": 28,
        "by_sex": {"female": 15, "male": 12, "other": 1},
        "by_age_band": {
            "under_15": 0,
            "15-17": 4,
            "18-24": 21,
            "25-34": 3,
            "35-44": 0,
            "45-54": 0,
            "55+": 0,
        },
    }
    assert [(c["sex"], c["age_band"], c["people"]) for c in outreach["counts"]] == [
        ("female", "15-17", 4),
        ("female", "18-24", 11),
        ("male", "18-24", 9),
        ("male", "25-34", 3),
        ("other", "18-24", 1),
    ]


async def test_the_office_is_the_callers_own_when_left_out(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = outreach_body()
    del body["office_code"]
    response = await predeparture_client.post(
        "/v1/outreach", json=body, headers=mrc_staff(migrated, "MRC-CH", "LA-CH")
    )
    assert response.status_code == 201, response.text
    assert (response.json()["office_code"], response.json()["province_code"]) == (
        "MRC-CH",
        "LA-CH",
    )


def _without(field: str) -> dict[str, Any]:
    body = outreach_body()
    del body[field]
    return body


def _counts(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return list(rows)


FEMALE_18 = {"sex": "female", "age_band": "18-24", "people": 3}

BAD_RECORDS = [
    ("held in the future", {"held_on": (today() + timedelta(days=1)).isoformat()}, "held_on"),
    ("no such language", {"language": "xx"}, "language"),
    ("not an outreach topic", {"topics": ["safe_migration", "astrology"]}, "topics.1"),
    ("no topic", {"topics": []}, "topics"),
    ("an ESC is not an MRC", {"office_code": "ESC-SV"}, "office_code"),
    ("no village", {"village": " "}, "village"),
    ("a person's name in a count", {"counts": [FEMALE_18 | {"name": "Noy"}]}, "counts.0.name"),
    ("a person id on the record", {"person_ids": [str(uuid.uuid4())]}, "person_ids"),
    ("a negative count", {"counts": [FEMALE_18 | {"people": -1}]}, "counts.0.people"),
    ("no such sex", {"counts": [FEMALE_18 | {"sex": "f"}]}, "counts.0.sex"),
    ("no such age band", {"counts": [FEMALE_18 | {"age_band": "18-25"}]}, "counts.0.age_band"),
    ("a row repeated", {"counts": _counts(FEMALE_18, FEMALE_18 | {"people": 5})}, "counts.1"),
    ("nobody counted", {"counts": [FEMALE_18 | {"people": 0}]}, "counts"),
    ("no counts", {"counts": []}, "counts"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS])
async def test_a_bad_outreach_record_is_refused_naming_the_field_and_nothing_is_written(
    predeparture_client: httpx.AsyncClient,
    migrated: Settings,
    case: str,
    change: dict[str, Any],
    field: str,
) -> None:
    body = outreach_body(**change)
    response = await predeparture_client.post(
        "/v1/outreach", json=body, headers=mrc_staff(migrated)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await fetchval(migrated, "predeparture", SESSIONS_IN_VILLAGE, body["village"]) == 0


async def test_every_bad_field_of_an_outreach_record_is_named_in_one_answer(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = outreach_body(
        office_code="ESC-SV",
        held_on=(today() + timedelta(days=1)).isoformat(),
        counts=[FEMALE_18 | {"people": 0}, FEMALE_18 | {"people": 0}],
    )

    response = await predeparture_client.post("/v1/outreach", json=body, headers=admin(migrated))

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [
        "office_code",
        "held_on",
        "counts.1",
        "counts",
    ]
    assert await fetchval(migrated, "predeparture", SESSIONS_IN_VILLAGE, body["village"]) == 0


async def test_a_missing_field_is_named(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await predeparture_client.post(
        "/v1/outreach", json=_without("held_on"), headers=mrc_staff(migrated)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["held_on"]


async def test_only_staff_of_the_office_record_its_outreach(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    others = {
        "staff of another MRC": mrc_staff(migrated, "MRC-CH", "LA-CH"),
        "an ESC officer of the province": esc_officer(migrated, "LA-SV"),
        "an analyst": analyst(migrated),
    }
    for who, headers in others.items():
        body = outreach_body()
        response = await predeparture_client.post("/v1/outreach", json=body, headers=headers)
        assert response.status_code == 403, who
        assert await fetchval(migrated, "predeparture", SESSIONS_IN_VILLAGE, body["village"]) == 0

    # An admin records for any office; a token of no office must name one.
    assert (await record(predeparture_client, admin(migrated)))["office_code"] == "MRC-SV"
    body = _without("office_code")
    response = await predeparture_client.post("/v1/outreach", json=body, headers=admin(migrated))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "office_code"


async def test_a_retried_record_with_the_same_idempotency_key_is_written_once(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    body = outreach_body()
    headers = mrc_staff(migrated) | {"Idempotency-Key": f"outreach-{uuid.uuid4()}"}
    first = await predeparture_client.post("/v1/outreach", json=body, headers=headers)
    again = await predeparture_client.post("/v1/outreach", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.content == first.content  # the same bytes, fields in the same order
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await fetchval(migrated, "predeparture", SESSIONS_IN_VILLAGE, body["village"]) == 1


async def test_outreach_is_listed_by_office_province_and_period_one_page_at_a_time(
    predeparture_client: httpx.AsyncClient, archive_client: httpx.AsyncClient, migrated: Settings
) -> None:
    # Days of their own, long ago, so that no other test's outreach falls in the period.
    day = date(2019, 3, 1) + timedelta(days=uuid.uuid4().int % 300)
    sv = mrc_staff(migrated)
    bk = mrc_staff(migrated, "MRC-BK", "LA-BK")
    first = await record(archive_client, sv, held_on=day.isoformat())
    second = await record(archive_client, sv, held_on=(day + timedelta(days=3)).isoformat())
    bokeo = await record(archive_client, bk, office_code="MRC-BK", held_on=day.isoformat())
    reader = esc_officer(migrated, "LA-VT")
    period = {"from": day.isoformat(), "to": (day + timedelta(days=3)).isoformat()}

    async def ids(**params: Any) -> list[str]:
        response = await predeparture_client.get(
            "/v1/outreach", params=period | params, headers=reader
        )
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == [bokeo["id"], second["id"], first["id"]]  # latest recorded first
    assert await ids(office_code="MRC-SV") == [second["id"], first["id"]]
    assert await ids(province_code="la-bk") == [bokeo["id"]]
    assert await ids(to=day.isoformat()) == [bokeo["id"], first["id"]]

    page = await predeparture_client.get(
        "/v1/outreach", params=period | {"limit": 2}, headers=reader
    )
    following = await predeparture_client.get(
        "/v1/outreach",
        params=period | {"limit": 2, "cursor": page.json()["next_cursor"]},
        headers=reader,
    )
    assert [i["id"] for i in page.json()["items"] + following.json()["items"]] == await ids()
    assert following.json()["next_cursor"] is None
    assert page.json()["items"][0]["totals"]["people"] == 28


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"province_code": "LA-XX"}, "province_code"),
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_a_bad_list_filter_is_refused_naming_it(
    predeparture_client: httpx.AsyncClient,
    migrated: Settings,
    params: dict[str, str],
    field: str,
) -> None:
    response = await predeparture_client.get(
        "/v1/outreach", params=params, headers=analyst(migrated)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_readers_read_outreach_and_others_do_not(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    created = await record(predeparture_client, mrc_staff(migrated))
    path = f"/v1/outreach/{created['id']}"
    for headers in (analyst(migrated), mrc_staff(migrated, "MRC-LP", "LA-LP"), admin(migrated)):
        assert (await predeparture_client.get(path, headers=headers)).status_code == 200
    partner = bearer(migrated, "partner-1", ["partner"])
    assert (await predeparture_client.get(path, headers=partner)).status_code == 403
    assert (await predeparture_client.get(path)).status_code == 401
    missing = await predeparture_client.get(
        f"/v1/outreach/{uuid.uuid4()}", headers=analyst(migrated)
    )
    assert missing.status_code == 404


async def test_the_topics_an_outreach_session_may_cover_are_listed(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await predeparture_client.get("/v1/outreach/topics", headers=mrc_staff(migrated))
    assert response.status_code == 200
    codes = [topic["code"] for topic in response.json()]
    assert {"safe_migration", "trafficking", "help_lines"} <= set(codes)
