"""Figure 4: the registry at national scale: name search, filtered lists, the duplicate check.

A synthetic labour bank (shared.synthetic) is loaded straight into the registry's tables with
COPY, with the same derived search keys the API writes. Then the registry API, served by
`labourx api` as in production, answers one request at a time (an officer waits for each):

- name search: `GET /v1/people?q=<name>` by an officer of the person's province, in the spelling
  the person was registered with or another usual one, in Lao script or Latin letters;
- filtered list: `GET /v1/people` by province, sex, age band and status;
- duplicate check: `POST /v1/people/duplicate-check` with a registered person written the way a
  second officer would (shared.synthetic.messy_variant), the check every registration runs.

The reference for each is the same query's SQL sent straight to PostgreSQL with asyncpg, on the
same data in the same run: the ratio says what the API adds on top of the database's own work.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from bench.processes import start_labourx_api
from bench.stats import latency_summary
from services.registry.people.domain import (
    AGE_BANDS,
    birth_dates_for_ages,
    disability_flag,
    occupation_codes,
    search_tokens,
)
from shared import clock
from shared.auth import mint_token
from shared.reference.disability import Answer, Domain
from shared.reference.names import romanise_lao
from shared.synthetic import generate_people, messy_variant

if TYPE_CHECKING:
    from bench.environment import Environment

TARGET_P95_MS = 50.0
CHUNK = 20_000
SAMPLE_EVERY = 500  # people kept in memory to build requests from

PEOPLE_COLUMNS = (
    "id", "reference", "given_name_lo", "family_name_lo", "given_name_en", "family_name_en",
    "sex", "date_of_birth", "birth_year", "phone", "email", "ethnicity", "disability",
    "has_disability", "province_code", "district", "village", "isced_level", "skills",
    "certificates", "languages", "experience", "name_tokens", "occupation_codes",
    "jobseeker_status", "office_code", "preferred_language", "registered_by", "record_status",
    "version",
    "created_at", "updated_at",
)  # fmt: skip
PROFILE_COLUMNS = (
    "person_id", "status", "desired_occupations", "preferred_provinces",
    "willing_to_work_abroad", "abroad_countries", "availability", "status_changed_at",
)  # fmt: skip
DOCUMENT_COLUMNS = ("id", "person_id", "kind", "country", "number", "expires_on")
STATUSES = ("active",) * 80 + ("referred",) * 8 + ("placed",) * 7 + ("inactive",) * 5


def _reference(index: int) -> str:
    """A distinct reference per loaded person (the API draws them at random and retries)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    code = "".join(alphabet[(index >> (5 * i)) & 31] for i in range(8))
    return "P-" + code


def _rows(
    body: dict[str, Any], index: int, registered_at: datetime
) -> tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]:
    """The people, profile and document rows the API would write for this registration."""
    person_id = uuid.uuid4()
    status = STATUSES[index % len(STATUSES)]
    born = date.fromisoformat(body["date_of_birth"])
    disability = body.get("disability")
    answers = {Domain(k): Answer(v) for k, v in disability.items()} if disability else None
    experience = body.get("experience", [])
    wishes = body.get("jobseeker") or {}
    names = [
        body.get(f) for f in ("given_name_lo", "family_name_lo", "given_name_en", "family_name_en")
    ]
    person = (
        person_id, _reference(index), *names, body["sex"], born, born.year, body.get("phone"),
        body.get("email"), body.get("ethnicity"), json.dumps(disability) if disability else None,
        disability_flag(answers), body["province_code"], body.get("district"), body.get("village"),
        (body.get("education") or {}).get("isced_level"),
        json.dumps((body.get("skills") or {}).get("tags", [])),
        json.dumps((body.get("skills") or {}).get("certificates", [])),
        json.dumps(body.get("languages", [])), json.dumps(experience),
        search_tokens(*names),
        occupation_codes([e["isco08"] for e in experience] + wishes.get("desired_occupations", [])),
        status, "ESC-" + body["province_code"].removeprefix("LA-"),
        body.get("preferred_language", "lo"), "bench-loader", "active", 1,
        registered_at, registered_at,
    )  # fmt: skip
    profile = (
        person_id, status, wishes.get("desired_occupations", []),
        wishes.get("preferred_provinces", []), wishes.get("willing_to_work_abroad", False),
        wishes.get("abroad_countries", []), wishes.get("availability"), registered_at,
    )  # fmt: skip
    documents = [
        (
            uuid.uuid4(),
            person_id,
            d["kind"],
            d.get("country", "LA"),
            d["number"].upper(),
            date.fromisoformat(d["expires_on"]) if d.get("expires_on") else None,
        )
        for d in body.get("documents", [])
    ]
    return person, profile, documents


async def load(dsn: str, count: int, seed: int) -> list[dict[str, Any]]:
    """COPY `count` synthetic people into the registry; returns a sample of their bodies."""
    conn = await asyncpg.connect(dsn)
    sample: list[dict[str, Any]] = []
    # Registrations spread over the last five years, oldest first, like a real labour bank.
    start = datetime.now(UTC) - timedelta(days=5 * 365)
    step = timedelta(days=5 * 365) / max(count, 1)
    people = generate_people(count, seed=seed)
    try:
        for first in range(0, count, CHUNK):
            chunk = [next(people) for _ in range(min(CHUNK, count - first))]
            rows = [
                _rows(body, first + i, start + step * (first + i)) for i, body in enumerate(chunk)
            ]
            await conn.copy_records_to_table(
                "people", records=[r[0] for r in rows], columns=PEOPLE_COLUMNS
            )
            await conn.copy_records_to_table(
                "jobseeker_profiles", records=[r[1] for r in rows], columns=PROFILE_COLUMNS
            )
            await conn.copy_records_to_table(
                "identity_documents",
                records=[d for r in rows for d in r[2]],
                columns=DOCUMENT_COLUMNS,
            )
            sample += chunk[::SAMPLE_EVERY]
        await conn.execute("ANALYZE people; ANALYZE jobseeker_profiles; ANALYZE identity_documents")
    finally:
        await conn.close()
    return sample


def _office_token(env: Environment, province: str) -> str:
    office = "ESC-" + province.removeprefix("LA-")
    return mint_token(env.settings, subject=f"bench-{office}", roles=["esc_staff"], office=office)


def _search_query(person: dict[str, Any], rng: random.Random) -> str:
    """What an officer types: the given and family name, in one of the scripts or spellings."""
    choice = rng.random()
    if choice < 0.3 and person.get("given_name_lo"):
        return f"{person['given_name_lo']} {person.get('family_name_lo') or ''}".strip()
    latin = messy_variant(person, rng) if choice < 0.6 else person
    given = latin.get("given_name_en") or romanise_lao(person.get("given_name_lo") or "")
    return f"{given} {latin.get('family_name_en') or ''}".strip()


# The same SQL the API runs, sent straight to PostgreSQL (the reference of each figure).
_SUMMARY = (
    "SELECT p.id, p.reference, p.given_name_lo, p.family_name_lo, p.given_name_en,"
    " p.family_name_en, p.sex, p.date_of_birth, p.province_code, p.district, p.office_code,"
    " p.migration_status, p.created_at, p.jobseeker_status FROM people p"
    " WHERE p.record_status = 'active'"
)
SEARCH_SQL = (
    _SUMMARY + " AND p.province_code = $1 AND p.name_tokens @> $2"
    " ORDER BY p.created_at DESC, p.id DESC LIMIT 51"
)
LIST_SQL = (
    _SUMMARY + " AND p.province_code = $1 AND p.sex = $2 AND p.jobseeker_status = $3"
    " AND p.date_of_birth BETWEEN $4 AND $5 ORDER BY p.created_at DESC, p.id DESC LIMIT 51"
)
DUPLICATE_SQL = (
    "SELECT id, reference, province_code, office_code, given_name_lo, family_name_lo,"
    " given_name_en, family_name_en, date_of_birth, phone FROM people"
    " WHERE (date_of_birth = $1 OR phone = $2) AND record_status = 'active' LIMIT 500"
)


Timed = Callable[[int], Awaitable[None]]


async def _time(call: Timed, requests: int, warmup: int) -> dict[str, float]:
    for i in range(warmup):
        await call(i)
    seconds = []
    for i in range(warmup, warmup + requests):
        started = time.perf_counter()
        await call(i)
        seconds.append(time.perf_counter() - started)
    return latency_summary(seconds)


def _cases(sample: list[dict[str, Any]], seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    today = clock.today()
    while True:
        person = rng.choice(sample)
        band = rng.choice([b for b in AGE_BANDS if b != "65+"])
        earliest, latest = birth_dates_for_ages(*AGE_BANDS[band], today)
        variant = messy_variant(person, rng)
        variant.pop("documents", None)
        variant.pop("jobseeker", None)
        yield {
            "person": person,
            "province": person["province_code"],
            "q": _search_query(person, rng),
            "sex": rng.choice(["female", "male"]),
            "status": rng.choice(["active", "active", "active", "referred"]),
            "band": band,
            "born": (earliest, latest),
            "variant": variant,
        }


async def run(env: Environment, people: int, requests: int, seed: int = 7) -> dict[str, Any]:
    dsn = env.dsn("registry")
    started = time.perf_counter()
    sample = await load(dsn, people, seed)
    load_s = time.perf_counter() - started
    cases = list(_cases_taken(sample, seed, requests + requests // 10))
    api = await start_labourx_api(env, "registry", "registry-api-queries")
    tokens = {case["province"]: _office_token(env, case["province"]) for case in cases}
    results: dict[str, Any] = {"people": people, "requests": requests, "load_s": round(load_s, 1)}
    warmup = requests // 10
    try:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:

            def auth(case: dict[str, Any]) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[case['province']]}"}

            async def search(i: int) -> None:
                case = cases[i]
                answer = await client.get("/v1/people", params={"q": case["q"]}, headers=auth(case))
                answer.raise_for_status()

            async def listing(i: int) -> None:
                case = cases[i]
                params = {"sex": case["sex"], "status": case["status"], "age_band": case["band"]}
                answer = await client.get("/v1/people", params=params, headers=auth(case))
                answer.raise_for_status()

            async def duplicates(i: int) -> None:
                case = cases[i]
                answer = await client.post(
                    "/v1/people/duplicate-check", json=case["variant"], headers=auth(case)
                )
                answer.raise_for_status()

            found = 0
            for case in cases[:100]:
                page = await client.get("/v1/people", params={"q": case["q"]}, headers=auth(case))
                found += any(p["id"] for p in page.json()["items"])
            results["search_hit_rate"] = round(found / 100, 2)
            lx = {
                "name_search": await _time(search, requests, warmup),
                "filtered_list": await _time(listing, requests, warmup),
                "duplicate_check": await _time(duplicates, requests, warmup),
            }
        conn = await asyncpg.connect(dsn)
        try:

            async def search_sql(i: int) -> None:
                case = cases[i]
                await conn.fetch(SEARCH_SQL, case["province"], search_tokens(case["q"]))

            async def list_sql(i: int) -> None:
                case = cases[i]
                await conn.fetch(
                    LIST_SQL, case["province"], case["sex"], case["status"], *case["born"]
                )

            async def duplicates_sql(i: int) -> None:
                variant = cases[i]["variant"]
                await conn.fetch(
                    DUPLICATE_SQL,
                    date.fromisoformat(variant["date_of_birth"]),
                    variant.get("phone"),
                )

            ref = {
                "name_search": await _time(search_sql, requests, warmup),
                "filtered_list": await _time(list_sql, requests, warmup),
                "duplicate_check": await _time(duplicates_sql, requests, warmup),
            }
        finally:
            await conn.close()
    finally:
        api.child.stop()
    for name in lx:
        results[name] = {
            "labourx": lx[name],
            "reference_sql": ref[name],
            "p95_ratio": round(lx[name]["p95_ms"] / ref[name]["p95_ms"], 2),
        }
    return results


def _cases_taken(sample: list[dict[str, Any]], seed: int, count: int) -> Iterator[dict[str, Any]]:
    cases = _cases(sample, seed)
    for _ in range(count):
        yield next(cases)
