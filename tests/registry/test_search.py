"""Lists and name search: paged, filtered, in either script, within the officer's scope."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from shared import clock
from tests.support import bearer, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

# A province of their own, so these tests count exactly the people they register.
PROVINCE = "LA-XS"


@pytest.fixture(scope="module")
def xaisomboun(settings: Settings) -> dict[str, str]:
    return bearer(settings, "officer-xs-1", ["esc_staff"], office="ESC-XS")


@pytest.fixture(scope="module")
async def people(
    registry_client: httpx.AsyncClient, xaisomboun: dict[str, str]
) -> dict[str, dict[str, object]]:
    today = clock.today()
    bodies = {
        "somsak": jobseeker(
            given_name_lo="ສົມສັກ",
            family_name_lo="ພົມມະວົງ",
            given_name_en=None,
            family_name_en=None,
            date_of_birth=date(today.year - 20, 1, 1).isoformat(),
            experience=[{"isco08": "7212", "years": 3}],
        ),
        "noy": jobseeker(
            given_name_en="Noy",
            family_name_en="Keomany",
            sex="female",
            date_of_birth=date(today.year - 30, 1, 1).isoformat(),
            jobseeker={"desired_occupations": ["5131"]},
        ),
        "vanh": jobseeker(
            given_name_en="Vanh",
            family_name_en="Sisouphanh",
            sex="female",
            date_of_birth=date(today.year - 40, 1, 1).isoformat(),
        ),
    }
    made = {}
    for name, body in bodies.items():
        response = await registry_client.post(
            "/v1/jobseekers", json={**body, "province_code": PROVINCE}, headers=xaisomboun
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()
    return made


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    response = await client.get(f"/v1/people?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


async def test_a_name_is_found_in_either_script_and_any_usual_spelling(
    registry_client: httpx.AsyncClient,
    xaisomboun: dict[str, str],
    people: dict[str, dict[str, object]],
) -> None:
    somsak, noy = people["somsak"]["id"], people["noy"]["id"]

    assert await _ids(registry_client, xaisomboun, "q=Somsak Phommavong") == [somsak]
    assert await _ids(registry_client, xaisomboun, "q=somsack phomavong") == [somsak]
    assert await _ids(registry_client, xaisomboun, "q=ພົມມະວົງ") == [somsak]
    assert await _ids(registry_client, xaisomboun, "q=ແກ້ວມະນີ") == [noy]  # Keomany, in Lao
    assert await _ids(registry_client, xaisomboun, "q=Khamphone") == []


async def test_filters_narrow_the_list(
    registry_client: httpx.AsyncClient,
    xaisomboun: dict[str, str],
    people: dict[str, dict[str, object]],
) -> None:
    ids = {name: p["id"] for name, p in people.items()}

    assert await _ids(registry_client, xaisomboun, "sex=female") == [ids["vanh"], ids["noy"]]
    assert await _ids(registry_client, xaisomboun, "age_band=15-24") == [ids["somsak"]]
    assert await _ids(registry_client, xaisomboun, "age_band=35-44") == [ids["vanh"]]
    # ISCO-08 groups: 7 (crafts) holds 7212 (welders); 51 (personal services) holds 5131.
    assert await _ids(registry_client, xaisomboun, "occupation=7") == [ids["somsak"]]
    assert await _ids(registry_client, xaisomboun, "occupation=513") == [ids["noy"]]
    assert await _ids(registry_client, xaisomboun, "office_code=ESC-XS&sex=male") == [ids["somsak"]]
    assert len(await _ids(registry_client, xaisomboun, "status=active")) == 3
    assert await _ids(registry_client, xaisomboun, "status=placed") == []
    assert await _ids(registry_client, xaisomboun, "migration_status=abroad") == []


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    registry_client: httpx.AsyncClient,
    xaisomboun: dict[str, str],
    people: dict[str, dict[str, object]],
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = "limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await registry_client.get(f"/v1/people?{query}", headers=xaisomboun)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [people[n]["id"] for n in ("vanh", "noy", "somsak")]  # newest first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("age_band=10-14", "age_band"),
        ("sex=unknown", "sex"),
        ("occupation=99999", "occupation"),
        ("limit=1000", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("q=--", "q"),
    ],
)
async def test_bad_filters_are_named(
    registry_client: httpx.AsyncClient, xaisomboun: dict[str, str], query: str, field: str
) -> None:
    response = await registry_client.get(f"/v1/people?{query}", headers=xaisomboun)

    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
