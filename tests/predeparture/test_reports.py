"""Reports: orientation completions and outreach over a period, grouped as asked, with figures of
fewer people than the threshold suppressed, and the figures that would give those away as well.
Analysts and admins read national figures; office staff read their own province's."""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from labourx.catalog import SERVICES
from shared.app import create_app
from tests.predeparture.conftest import admin, analyst, esc_officer, mrc_staff
from tests.support import bearer, fetchval

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from shared.settings import Settings

# -- setup: completions as the completion flow would have written them ------------------------
#
# SETUP ONLY. Reports read the `learners` and `completions` tables, which the learners read
# model and the completion rule own and fill. To state exactly which completions exist, these
# tests write those rows directly instead of driving whole orientation flows; the rows carry
# every column those features write. A person who was erased has no learner row (predeparture
# deletes it on PersonErased); their completions stay.


@dataclass(frozen=True)
class Completed:
    """One person's completion to set up: who (sex, province), where, for where, when."""

    sex: str
    province: str
    on: date
    office: str = "MRC-SV"
    destination: str = "TH"
    status: str = "valid"
    erased: bool = False


async def _a_curriculum(settings: Settings) -> uuid.UUID:
    existing = await fetchval(settings, "predeparture", "SELECT id FROM curricula LIMIT 1")
    if existing is not None:
        return uuid.UUID(str(existing))
    made = uuid.uuid4()
    await fetchval(
        settings,
        "predeparture",
        "INSERT INTO curricula (id, code, version, title_lo, title_en, completion_window_months,"
        " validity_months, status, created_by)"
        " VALUES ($1, $2, 1, 'ລາຍງານ', 'Reports test', 6, 24, 'draft', 'test') RETURNING id",
        made,
        f"RPT-{made.hex[:8]}",
    )
    return made


async def set_up_completions(settings: Settings, *people: Completed) -> None:
    """SETUP ONLY: write learners and completions rows for `people` (see above)."""
    curriculum_id = await _a_curriculum(settings)
    ids = [uuid.uuid4() for _ in people]
    known = [(i, p) for i, p in zip(ids, people, strict=True) if not p.erased]
    await fetchval(
        settings,
        "predeparture",
        "INSERT INTO learners (person_id, reference, initials, sex, date_of_birth, province_code,"
        " office_code, updated_at)"
        " SELECT person_id, 'P-' || left(replace(person_id::text, '-', ''), 8), 'T. R.', sex,"
        " DATE '1998-03-01', province, office, now()"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])"
        " AS t(person_id, sex, province, office)",
        [i for i, _ in known],
        [p.sex for _, p in known],
        [p.province for _, p in known],
        [p.office for _, p in known],
    )
    await fetchval(
        settings,
        "predeparture",
        "INSERT INTO completions (id, person_id, destination_country, curriculum_id, completed_on,"
        " valid_until, certificate_number, verification_hash, office_code, status, issued_at,"
        " withdrawn_at, withdrawn_reason)"
        " SELECT gen_random_uuid(), person_id, destination, $5::uuid, completed_on,"
        " completed_on + 730, 'RPT-' || replace(person_id::text, '-', ''), hash, office, status,"
        " now(), CASE WHEN status = 'withdrawn' THEN now() END,"
        " CASE WHEN status = 'withdrawn' THEN 'attendance corrected' END"
        " FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $6::text[], $7::text[])"
        " AS t(person_id, destination, completed_on, office, status, hash)",
        ids,
        [p.destination for p in people],
        [p.on for p in people],
        [p.office for p in people],
        curriculum_id,
        [p.status for p in people],
        [hashlib.sha256(i.bytes).hexdigest() for i in ids],
    )


def many(n: int, **fields: Any) -> list[Completed]:
    return [Completed(**fields) for _ in range(n)]


_months = itertools.count()


def fresh_period() -> tuple[date, date]:
    """A month long ago that no other test counts in, so figures are exactly what a test set up."""
    n = next(_months)
    year, month = 2012 + n // 12, n % 12 + 1
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


async def report(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    kind: str,
    period: tuple[date, date],
    **params: Any,
) -> dict[str, Any]:
    query = {"from": period[0].isoformat(), "to": period[1].isoformat()} | params
    response = await client.get(f"/v1/reports/{kind}", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def cells(body: dict[str, Any], part: str = "cells") -> dict[tuple[str, ...], int | None]:
    """Figures by the values of their group, in the order of `by`; None when suppressed."""
    found = {}
    for figure in body[part]:
        assert figure["suppressed"] is (figure["count"] is None)
        found[tuple(figure["group"][d] for d in body["by"] if d in figure["group"])] = figure[
            "count"
        ]
    return found


@contextlib.asynccontextmanager
async def client_with(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a predeparture app built with `settings`."""
    app = create_app(SERVICES["predeparture"], settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


# -- completions --------------------------------------------------------------------------------


async def test_completions_by_office_and_sex_hide_small_cells_and_what_would_give_them_away(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    day = period[0] + timedelta(days=9)
    await set_up_completions(
        migrated,
        *many(12, sex="female", province="LA-SV", on=day),
        *many(7, sex="male", province="LA-SV", on=day),
        *many(1, sex="other", province="LA-SV", on=day),
        *many(6, sex="female", province="LA-CH", on=day, office="MRC-CH"),
        *many(5, sex="male", province="LA-CH", on=day, office="MRC-CH"),
        *many(1, sex="female", province="LA-BK", on=day, office="MRC-BK"),
        *many(1, sex="male", province="LA-BK", on=day, office="MRC-BK"),
    )

    body = await report(
        predeparture_client, analyst(migrated), "completions", period, by="office,sex"
    )

    assert body["by"] == ["office", "sex"]
    assert (body["scope"], body["min_cell"]) == ("national", 5)
    assert cells(body) == {
        # Bokeo's two people: each a cell of one, so hidden, and so is Bokeo's subtotal.
        ("MRC-BK", "female"): None,
        ("MRC-BK", "male"): None,
        # Champasak's subtotal goes with Bokeo's, or 33 - 20 - 11 would give Bokeo's 2; and
        # one of its cells goes with it, or adding its cells up would give it back.
        ("MRC-CH", "female"): 6,
        ("MRC-CH", "male"): None,
        # The lone "other" is covered by the next smallest cell of Savannakhet, 7.
        ("MRC-SV", "female"): 12,
        ("MRC-SV", "male"): None,
        ("MRC-SV", "other"): None,
    }
    assert cells(body, "subtotals") == {("MRC-BK",): None, ("MRC-CH",): None, ("MRC-SV",): 20}
    assert body["total"] == {"group": {}, "count": 33, "suppressed": False}

    by_office = await report(
        predeparture_client, analyst(migrated), "completions", period, by="office"
    )
    assert cells(by_office) == {("MRC-BK",): None, ("MRC-CH",): None, ("MRC-SV",): 20}
    assert by_office["subtotals"] == []
    assert by_office["total"]["count"] == 33


async def test_a_report_grouped_by_destination_and_province_keeps_the_order_asked(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    day = period[0]
    await set_up_completions(
        migrated,
        *many(5, sex="female", province="LA-SV", on=day, destination="TH"),
        *many(6, sex="male", province="LA-SV", on=day, destination="KR"),
        *many(8, sex="male", province="LA-CH", on=day, destination="TH", office="MRC-CH"),
    )

    body = await report(
        predeparture_client, admin(migrated), "completions", period, by="destination,province"
    )

    assert [list(c["group"]) for c in body["cells"]] == [["destination", "province"]] * 3
    assert cells(body) == {("KR", "LA-SV"): 6, ("TH", "LA-CH"): 8, ("TH", "LA-SV"): 5}
    assert cells(body, "subtotals") == {("KR",): 6, ("TH",): 13}
    assert body["total"]["count"] == 19

    total_only = await report(predeparture_client, admin(migrated), "completions", period)
    assert (total_only["by"], total_only["cells"], total_only["total"]["count"]) == ([], [], 19)


async def test_withdrawn_completions_are_not_counted(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    day = period[0] + timedelta(days=3)
    await set_up_completions(
        migrated,
        *many(6, sex="female", province="LA-SV", on=day),
        *many(4, sex="female", province="LA-SV", on=day, status="withdrawn"),
        *many(5, sex="male", province="LA-SV", on=day, status="withdrawn"),
    )

    body = await report(predeparture_client, analyst(migrated), "completions", period, by="sex")

    assert cells(body) == {("female",): 6}
    assert body["total"]["count"] == 6


async def test_only_completions_dated_within_the_period_count_both_ends_included(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    start, end = fresh_period()
    fresh_period()  # the month after stays empty too: the day after `end` falls in it
    await set_up_completions(
        migrated,
        *many(5, sex="female", province="LA-SV", on=start),
        *many(6, sex="female", province="LA-SV", on=end),
        *many(7, sex="female", province="LA-SV", on=end + timedelta(days=1)),
    )
    headers = analyst(migrated)

    whole = await report(predeparture_client, headers, "completions", (start, end))
    first_day = await report(predeparture_client, headers, "completions", (start, start))
    last_day = await report(predeparture_client, headers, "completions", (end, end))
    assert (whole["total"]["count"], first_day["total"]["count"]) == (11, 5)
    assert last_day["total"]["count"] == 6
    assert whole["period"] == {"from": start.isoformat(), "to": end.isoformat()}


async def test_the_threshold_follows_the_setting(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    await set_up_completions(
        migrated,
        *many(7, sex="female", province="LA-SV", on=period[0]),
        *many(12, sex="male", province="LA-SV", on=period[0]),
    )
    by_default = await report(
        predeparture_client, analyst(migrated), "completions", period, by="sex"
    )
    assert cells(by_default) == {("female",): 7, ("male",): 12}

    stricter = migrated.model_copy(update={"predeparture_report_min_cell": 10})
    async with client_with(stricter) as client:
        body = await report(client, analyst(migrated), "completions", period, by="sex")
    assert body["min_cell"] == 10
    # 7 is now small; 12 goes with it so that the total of 19 does not give the 7 away.
    assert cells(body) == {("female",): None, ("male",): None}
    assert body["total"]["count"] == 19


async def test_a_completion_of_an_erased_person_counts_as_unknown_sex_in_its_offices_province(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    day = period[0]
    await set_up_completions(
        migrated,
        *many(5, sex="female", province="LA-SV", on=day, office="MRC-CH", erased=True),
        *many(6, sex="female", province="LA-SV", on=day, office="MRC-CH"),
    )

    body = await report(
        predeparture_client, analyst(migrated), "completions", period, by="province,sex"
    )

    assert cells(body) == {("LA-CH", "unknown"): 5, ("LA-SV", "female"): 6}
    assert body["total"]["count"] == 11


async def test_office_staff_read_their_own_provinces_figures_only(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    day = period[0]
    await set_up_completions(
        migrated,
        *many(6, sex="female", province="LA-SV", on=day),
        *many(7, sex="male", province="LA-CH", on=day, office="MRC-CH"),
    )

    for headers in (mrc_staff(migrated), esc_officer(migrated, "LA-SV")):
        mine = await report(predeparture_client, headers, "completions", period, by="province")
        assert (mine["scope"], cells(mine), mine["total"]["count"]) == (
            "LA-SV",
            {("LA-SV",): 6},
            6,
        )
        other = await predeparture_client.get(
            "/v1/reports/completions",
            params={
                "from": period[0].isoformat(),
                "to": period[1].isoformat(),
                "province_code": "LA-CH",
            },
            headers=headers,
        )
        assert other.status_code == 403

    national = await report(
        predeparture_client, analyst(migrated), "completions", period, by="province"
    )
    assert (national["scope"], cells(national)) == ("national", {("LA-CH",): 7, ("LA-SV",): 6})
    champasak = await report(
        predeparture_client,
        analyst(migrated),
        "completions",
        period,
        by="province",
        province_code="la-ch",
    )
    assert (champasak["scope"], cells(champasak)) == ("LA-CH", {("LA-CH",): 7})


@pytest.mark.parametrize("kind", ["completions", "outreach"])
async def test_reports_are_for_analysts_admins_and_office_staff(
    predeparture_client: httpx.AsyncClient, migrated: Settings, kind: str
) -> None:
    params = {"from": "2011-01-01", "to": "2011-01-31"}
    path = f"/v1/reports/{kind}"
    for headers in (analyst(migrated), admin(migrated), mrc_staff(migrated)):
        assert (await predeparture_client.get(path, params=params, headers=headers)).is_success
    partner = bearer(migrated, "partner-1", ["partner"])
    agency = bearer(migrated, "agent-1", ["agency"], agency="AG-1")
    for headers in (partner, agency):
        response = await predeparture_client.get(path, params=params, headers=headers)
        assert response.status_code == 403
    assert (await predeparture_client.get(path, params=params)).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-01-01", "to": "2026-01-31", "by": "office,religion"}, "by"),
        ({"from": "2026-01-01", "to": "2026-01-31", "by": "sex,sex"}, "by"),
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"to": "2026-01-31"}, "from"),
        ({"from": "2026-01-01", "to": "2026-01-31", "province_code": "LA-XX"}, "province_code"),
        ({"from": "2026-01-01", "to": "2026-01-31", "by": "age_band"}, "by"),
    ],
)
async def test_a_bad_completions_report_request_is_refused_naming_the_field(
    predeparture_client: httpx.AsyncClient,
    migrated: Settings,
    params: dict[str, str],
    field: str,
) -> None:
    response = await predeparture_client.get(
        "/v1/reports/completions", params=params, headers=analyst(migrated)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_every_bad_parameter_of_a_report_is_named_in_one_answer(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await predeparture_client.get(
        "/v1/reports/completions",
        params={
            "from": "2026-02-01",
            "to": "2026-01-31",
            "by": "religion,sex,sex",
            "province_code": "LA-XX",
        },
        headers=analyst(migrated),
    )

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["by", "by", "to", "province_code"]
    assert "religion" in errors[0]["message"]
    assert "twice" in errors[1]["message"]


# -- outreach -----------------------------------------------------------------------------------


async def test_outreach_report_sums_counts_by_sex_and_age_band_and_hides_small_cells(
    predeparture_client: httpx.AsyncClient, archive_client: httpx.AsyncClient, migrated: Settings
) -> None:
    period = fresh_period()
    staff = mrc_staff(migrated, "MRC-LP", "LA-LP")
    sessions = [
        [("female", "18-24", 4), ("male", "18-24", 3), ("female", "25-34", 10)],
        [("female", "18-24", 3), ("male", "25-34", 1), ("male", "18-24", 4)],
    ]
    for day, counts in enumerate(sessions):
        response = await archive_client.post(
            "/v1/outreach",
            json={
                "office_code": "MRC-LP",
                "district": "Nan",
                "village": f"Ban Pak Xeng {uuid.uuid4().hex[:6]}",
                "held_on": (period[0] + timedelta(days=day)).isoformat(),
                "facilitator": "Mr Vongsa",
                "language": "lo",
                "topics": ["safe_migration"],
                "counts": [{"sex": s, "age_band": a, "people": n} for s, a, n in counts],
            },
            headers=staff,
        )
        assert response.status_code == 201, response.text

    body = await report(
        predeparture_client, analyst(migrated), "outreach", period, by="sex,age_band"
    )

    assert cells(body) == {
        ("female", "18-24"): 7,
        ("female", "25-34"): 10,
        # The one man of 25-34 is hidden, and the 7 men of 18-24 with him: else 8 - 7 = 1.
        ("male", "18-24"): None,
        ("male", "25-34"): None,
    }
    assert cells(body, "subtotals") == {("female",): 17, ("male",): 8}
    assert body["total"]["count"] == 25

    by_band = await report(predeparture_client, staff, "outreach", period, by="age_band")
    assert by_band["scope"] == "LA-LP"
    assert cells(by_band) == {("18-24",): 14, ("25-34",): 11}

    elsewhere = await report(
        predeparture_client, mrc_staff(migrated), "outreach", period, by="office,province"
    )
    assert (elsewhere["cells"], elsewhere["total"]["count"]) == ([], 0)
    by_office = await report(
        predeparture_client, admin(migrated), "outreach", period, by="office,province"
    )
    assert cells(by_office) == {("MRC-LP", "LA-LP"): 25}


async def test_a_bad_outreach_report_request_is_refused_naming_the_field(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    response = await predeparture_client.get(
        "/v1/reports/outreach",
        params={"from": "2026-01-01", "to": "2026-01-31", "by": "destination"},
        headers=analyst(migrated),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "by"
