"""Curricula: every database starts with the default curriculum; admins add versions, checked as
a whole, and activating one retires the version active before it; everyone who reads
orientation records reads them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID
from tests.predeparture.conftest import admin, analyst, esc_officer, mrc_staff
from tests.predeparture.test_attendance import GENERAL, fields

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


def module(code: str, *, destinations: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title_lo": "ສິດຂອງຜູ້ອອກແຮງງານ",
        "title_en": f"Module {code}",
        "hours": "2.0",
        "mandatory": True,
        "destinations": destinations or [],
    } | extra


def version(code: str, modules: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title_lo": "ການປະຖົມນິເທດສຳລັບຄົນເຮັດວຽກປະມົງ",
        "title_en": "Orientation for work on fishing vessels",
        "completion_window_months": 3,
        "validity_months": 24,
        "modules": modules
        or [module("RIGHTS"), module("SEA-SAFETY"), module("DEST-TH", destinations=["th"])],
    } | extra


def fresh_code() -> str:
    """A curriculum code of this test alone (the default one stays active for the others)."""
    return f"SEA-{uuid.uuid4().hex[:8].upper()}"


async def test_every_database_starts_with_the_default_curriculum_active(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    listed = await predeparture_client.get("/v1/curricula", headers=esc_officer(migrated))
    assert listed.status_code == 200
    items = listed.json()["items"]
    default = next(c for c in items if c["id"] == str(DEFAULT_CURRICULUM_ID))
    assert (default["code"], default["version"], default["status"]) == ("PDO", 1, "active")
    assert items[0]["status"] == "active"  # active versions come first

    response = await predeparture_client.get(
        f"/v1/curricula/{DEFAULT_CURRICULUM_ID}", headers=analyst(migrated)
    )
    assert response.status_code == 200
    curriculum = response.json()
    assert (curriculum["completion_window_months"], curriculum["validity_months"]) == (6, 12)
    assert curriculum["destinations"] == ["JP", "KR", "MY", "TH"]
    modules = curriculum["modules"]
    assert [m["code"] for m in modules] == [*GENERAL, "DEST-TH", "DEST-KR", "DEST-JP", "DEST-MY"]
    assert all(m["mandatory"] and float(m["hours"]) > 0 and m["title_lo"] for m in modules)
    assert [m["destinations"] for m in modules if m["destinations"]] == [
        ["TH"],
        ["KR"],
        ["JP"],
        ["MY"],
    ]
    assert modules[0]["title_en"] == "Workers' rights and the employment contract"
    assert modules[0]["title_lo"] == "ສິດຂອງຜູ້ອອກແຮງງານ ແລະ ສັນຍາແຮງງານ"


async def test_an_admin_adds_a_draft_version_and_activating_it_retires_the_previous_one(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    code = fresh_code()
    first = await predeparture_client.post(
        "/v1/curricula", json=version(code), headers=admin(migrated)
    )
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["version"], v1["status"], v1["created_by"]) == (1, "draft", "admin-1")
    assert v1["modules"][2]["destinations"] == ["TH"]  # canonical upper case
    activated = await predeparture_client.post(
        f"/v1/curricula/{v1['id']}/activation", headers=admin(migrated)
    )
    assert activated.status_code == 200
    assert activated.json()["status"] == "active"

    second = await predeparture_client.post(
        "/v1/curricula",
        json=version(code, completion_window_months=4),
        headers=admin(migrated) | {"Idempotency-Key": f"{code}-v2"},
    )
    v2 = second.json()
    assert (v2["version"], v2["status"]) == (2, "draft")
    retried = await predeparture_client.post(
        "/v1/curricula",
        json=version(code, completion_window_months=4),
        headers=admin(migrated) | {"Idempotency-Key": f"{code}-v2"},
    )
    assert retried.json()["id"] == v2["id"]  # a retry creates no third version
    activated = await predeparture_client.post(
        f"/v1/curricula/{v2['id']}/activation", headers=admin(migrated)
    )
    assert activated.json()["status"] == "active"

    statuses = {
        c["version"]: c["status"]
        for c in (await predeparture_client.get("/v1/curricula", headers=admin(migrated))).json()[
            "items"
        ]
        if c["code"] == code
    }
    assert statuses == {1: "retired", 2: "active"}
    again = await predeparture_client.post(
        f"/v1/curricula/{v2['id']}/activation", headers=admin(migrated)
    )
    assert again.status_code == 200
    assert again.json()["status"] == "active"
    back = await predeparture_client.post(
        f"/v1/curricula/{v1['id']}/activation", headers=admin(migrated)
    )
    assert back.status_code == 409
    assert back.json()["type"].endswith("/curriculum-not-activatable")


async def test_a_version_with_bad_modules_is_refused_naming_each_field(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    code = fresh_code()
    malformed = version(
        code,
        [
            module("RIGHTS", hours="0"),
            module("DEST-XX", destinations=["XX"]),
            module("OSH", title_lo="Safety at work"),
        ],
    )
    response = await predeparture_client.post(
        "/v1/curricula", json=malformed, headers=admin(migrated)
    )
    assert response.status_code == 422, response.text
    assert fields(response) == [
        "modules.0.hours",
        "modules.1.destinations.0",
        "modules.2.title_lo",
    ]

    inconsistent = version(
        code,
        [
            module("RIGHTS", mandatory=False),
            module("DEST-TH", destinations=["TH", "th"]),
            module("RIGHTS", destinations=["KR"]),
        ],
    )
    response = await predeparture_client.post(
        "/v1/curricula", json=inconsistent, headers=admin(migrated)
    )
    assert response.status_code == 422, response.text
    assert fields(response) == ["modules.1.destinations.1", "modules.2.code", "modules"]
    listed = (await predeparture_client.get("/v1/curricula", headers=admin(migrated))).json()
    assert not [c for c in listed["items"] if c["code"] == code]


async def test_only_admins_add_or_activate_curricula_and_readers_read_them(
    predeparture_client: httpx.AsyncClient, migrated: Settings
) -> None:
    for headers in (mrc_staff(migrated), esc_officer(migrated), analyst(migrated)):
        response = await predeparture_client.post(
            "/v1/curricula", json=version(fresh_code()), headers=headers
        )
        assert response.status_code == 403, response.text
        activation = await predeparture_client.post(
            f"/v1/curricula/{DEFAULT_CURRICULUM_ID}/activation", headers=headers
        )
        assert activation.status_code == 403
        assert (await predeparture_client.get("/v1/curricula", headers=headers)).status_code == 200
    assert (await predeparture_client.get("/v1/curricula")).status_code == 401
    missing = await predeparture_client.get(
        f"/v1/curricula/{uuid.uuid4()}", headers=admin(migrated)
    )
    assert missing.status_code == 404
