"""Figure 5: ranked matching at national scale, both directions (issue 4, item 10).

A synthetic labour bank (shared.synthetic.generate_people) is loaded straight into matching's
`candidates` read model with COPY, as the read model would hold it after registry's events
(retrieval keys and the eligibility flag from services/matching/candidates/domain.py), with a
few completed orientations. Then a synthetic job bank (shared.synthetic.generate_vacancies):
employers, licensed agencies and published vacancies with their retrieval keys. The matching
API, served by `labourx api matching` as in production, answers one request at a time:

- candidates for a vacancy: `GET /v1/vacancies/{id}/candidates?limit=20` for random published
  vacancies (domestic and overseas as generated);
- jobs for a person: `GET /v1/people/{id}/vacancies?limit=20` for random eligible people.

The reference, measured in the same run on the same data, is the straightforward way: the same
scoring SQL (services.matching.ranking.sql) over every eligible row, ORDER BY score LIMIT 20, in
one query: the search plan's last cell alone (`Cell(0, False, ...)`), sent through SQLAlchemy
straight to PostgreSQL. The ratio is full-scan p95 / API p95: how many times faster the indexed,
cell-by-cell search (plus HTTP, auth and loading the vacancy or person) is than scoring everyone.
For overseas vacancies even the full scan keeps its one retrieval key (`w:abroad`): only people
willing to work abroad can be candidates at all.

Exactness: on the first measured cases of each direction the API's top 20 ids are compared
with the full scan's, in order. The API's `search.groups_searched` (index lookups it made before
the top was certain) is summarised too.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bench import report
from bench.processes import start_labourx_api
from bench.stats import latency_summary
from bench.tree import SERVICES
from services.matching.candidates import domain as candidates
from services.matching.candidates.models import Candidate
from services.matching.ranking import keys
from services.matching.ranking.domain import Cell
from services.matching.ranking.service import person_profile, vacancy_terms
from services.matching.ranking.sql import PersonProfile, Query, candidates_for, vacancies_for
from services.matching.vacancies.models import Vacancy
from shared import clock
from shared.auth import mint_token
from shared.db import create_engine, drop_database
from shared.provision import prepare_databases
from shared.synthetic import (
    generate_agencies,
    generate_employers,
    generate_people,
    generate_vacancies,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from bench.environment import Environment

SERVICE = "matching"
TARGET_P95_MS = 100.0
LIMIT = 20
EXACT_CASES = 20  # measured cases of each direction whose top 20 is checked against the scan
CHUNK = 20_000
SAMPLE_SIZE = 4_000  # vacancies and people kept in memory to draw requests from
FULL_SCAN = Cell(0, False, 0.0)  # the search plan's last cell: every eligible row

STATUSES = ("active",) * 80 + ("referred",) * 8 + ("placed",) * 7 + ("inactive",) * 5
CONSENT_SHARE = 0.85

CANDIDATE_COLUMNS = (
    "person_id", "reference", "display_name", "sex", "date_of_birth", "province_code",
    "district", "office_code", "isced_level", "skills", "languages", "experience",
    "desired_occupations", "preferred_provinces", "willing_abroad", "abroad_countries",
    "match_keys", "jobseeker_status", "migration_status", "consent_job_matching",
    "consent_expires_on", "consent_recorded_at", "passport_expires_on", "oriented_countries",
    "eligible", "record_status", "record_version", "updated_at",
)  # fmt: skip
ORIENTATION_COLUMNS = (
    "person_id", "destination_country", "certificate_number", "completed_on", "valid_until",
    "recorded_at",
)  # fmt: skip
EMPLOYER_COLUMNS = (
    "id", "name", "registration_number", "isic_section", "province_code", "district",
    "office_code", "created_by",
)  # fmt: skip
AGENCY_COLUMNS = (
    "id", "code", "name", "licence_number", "licence_issued_on", "licence_expires_on",
    "destinations", "status", "province_code", "created_by",
)  # fmt: skip
VACANCY_COLUMNS = (
    "id", "reference", "kind", "status", "title", "isco08", "match_keys", "employer_id",
    "province_code", "district", "agency_id", "destination_country", "foreign_employer",
    "demand_letter_ref", "channel", "required_skills", "min_isced", "min_experience_years",
    "languages", "min_age", "max_age", "positions", "open_positions", "wage_amount",
    "wage_currency", "wage_period", "contract_months", "starts_on", "closes_on", "worker_fees",
    "worker_fee_total", "office_code", "created_by", "created_at", "updated_at",
    "published_at",
)  # fmt: skip


# -- loading ---------------------------------------------------------------------------------


def _person_reference(index: int) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "P-" + "".join(alphabet[(index >> (5 * i)) & 31] for i in range(8))


def _migration_status(rng: random.Random, worked_abroad: bool, willing: bool) -> str | None:
    """Registry's migration record, when the person has one: most who worked abroad are back;
    a few are abroad again (not matchable); some willing people are preparing to go."""
    draw = rng.random()
    if worked_abroad:
        if draw < 0.04:
            return "abroad"
        if draw < 0.06:
            return "departed"
        return "returned" if draw < 0.75 else None
    if willing:
        if draw < 0.05:
            return "prospective"
        if draw < 0.07:
            return "ready"
        if draw < 0.08:
            return "departed"
    return None


def _candidate(
    body: dict[str, Any], index: int, rng: random.Random, registered_at: datetime, today: date
) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
    """The candidates row the read model would hold for this registration, and an orientation
    row for some of the people willing to work abroad."""
    wishes = body.get("jobseeker") or {}
    experience = body.get("experience", [])
    willing = bool(wishes.get("willing_to_work_abroad"))
    countries = list(wishes.get("abroad_countries", []))
    passport = next((d for d in body.get("documents", []) if d["kind"] == "passport"), None)
    consent = rng.random() < CONSENT_SHARE
    consent_expires_on = None
    if consent and rng.random() < 0.3:  # given for a term: three to five years
        consent_expires_on = registered_at.date() + timedelta(days=1095 + rng.randrange(730))
    row: dict[str, Any] = {
        "person_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "reference": _person_reference(index),
        "display_name": candidates.display_name(
            body.get("given_name_lo"),
            body.get("family_name_lo"),
            body.get("given_name_en"),
            body.get("family_name_en"),
        ),
        "sex": body["sex"],
        "date_of_birth": date.fromisoformat(body["date_of_birth"]),
        "province_code": body["province_code"],
        "district": body.get("district"),
        "office_code": "ESC-" + body["province_code"].removeprefix("LA-"),
        "isced_level": (body.get("education") or {}).get("isced_level"),
        "skills": candidates.skill_tags((body.get("skills") or {}).get("tags", [])),
        "languages": list(dict.fromkeys(x["code"].lower() for x in body.get("languages", []))),
        "experience": [{"isco08": x["isco08"], "years": x["years"]} for x in experience],
        "desired_occupations": list(wishes.get("desired_occupations", [])),
        "preferred_provinces": list(wishes.get("preferred_provinces", [])),
        "willing_abroad": willing,
        "abroad_countries": countries,
        "jobseeker_status": STATUSES[rng.randrange(len(STATUSES))],
        "migration_status": _migration_status(
            rng, any(x.get("country", "LA") != "LA" for x in experience), willing
        ),
        "consent_job_matching": consent,
        "consent_expires_on": consent_expires_on,
        "consent_recorded_at": registered_at if consent else None,
        "passport_expires_on": (date.fromisoformat(passport["expires_on"]) if passport else None),
        "record_status": "active",
        "record_version": 1,
        "updated_at": registered_at,
    }
    orientation = None
    if willing and rng.random() < 0.10:
        completed = today - timedelta(days=rng.randrange(400))
        orientation = (
            row["person_id"],
            countries[0] if countries else "TH",
            f"OR-{index:08d}",
            completed,
            completed + timedelta(days=365),
            registered_at,
        )
    row["oriented_countries"] = [orientation[1]] if orientation else []
    # The read model's own derivations (candidates/service.py `_refresh`).
    row["match_keys"] = candidates.match_keys(row)
    row["eligible"] = candidates.is_eligible(row)
    return row, orientation


def _can_be_matched(row: Mapping[str, Any], today: date) -> bool:
    expires_on = row["consent_expires_on"]
    return bool(row["eligible"]) and (expires_on is None or expires_on >= today)


async def load_candidates(
    conn: asyncpg.Connection, count: int, seed: int, today: date
) -> tuple[list[uuid.UUID], dict[str, int]]:
    """COPY `count` candidates; returns a sample of the matchable ones' ids, and counts."""
    rng = random.Random(f"candidates-{seed}")
    start = datetime.now(UTC) - timedelta(days=5 * 365)
    step = timedelta(days=5 * 365) / max(count, 1)
    people = generate_people(count, seed=seed)
    every = max(1, count // SAMPLE_SIZE)
    sample: list[uuid.UUID] = []
    counts = {"eligible": 0, "matchable_today": 0, "willing_abroad": 0, "oriented": 0}
    for first in range(0, count, CHUNK):
        rows, orientations = [], []
        for i in range(first, min(first + CHUNK, count)):
            row, orientation = _candidate(next(people), i, rng, start + step * i, today)
            row["experience"] = json.dumps(row["experience"])  # JSONB travels as text in COPY
            rows.append(tuple(row[c] for c in CANDIDATE_COLUMNS))
            if orientation is not None:
                orientations.append(orientation)
            counts["eligible"] += row["eligible"]
            counts["willing_abroad"] += row["willing_abroad"]
            if _can_be_matched(row, today):
                counts["matchable_today"] += 1
                if counts["matchable_today"] % every == 0:
                    sample.append(row["person_id"])
        await conn.copy_records_to_table("candidates", records=rows, columns=CANDIDATE_COLUMNS)
        await conn.copy_records_to_table(
            "candidate_orientations", records=orientations, columns=ORIENTATION_COLUMNS
        )
        counts["oriented"] += len(orientations)
    return sample, counts


async def load_job_bank(
    conn: asyncpg.Connection, count: int, seed: int, today: date
) -> list[dict[str, Any]]:
    """COPY employers, agencies (licences in force) and `count` published vacancies; returns a
    sample of the vacancies."""
    employers = generate_employers(seed)
    agencies = generate_agencies()
    await conn.copy_records_to_table(
        "employers",
        records=[(*(e[c] for c in EMPLOYER_COLUMNS[:-1]), "bench-loader") for e in employers],
        columns=EMPLOYER_COLUMNS,
    )
    licence = {
        "licence_issued_on": today - timedelta(days=400),
        "licence_expires_on": today + timedelta(days=3 * 365),
        "status": "active",
        "created_by": "bench-loader",
    }
    await conn.copy_records_to_table(
        "agencies",
        records=[tuple((a | licence)[c] for c in AGENCY_COLUMNS) for a in agencies],
        columns=AGENCY_COLUMNS,
    )
    now = datetime.now(UTC)
    vacancies = generate_vacancies(
        count, seed=seed, today=today, employers=employers, agencies=agencies
    )
    every = max(1, count // SAMPLE_SIZE)
    sample: list[dict[str, Any]] = []
    for first in range(0, count, CHUNK):
        chunk = [next(vacancies) for _ in range(min(CHUNK, count - first))]
        records = []
        for vacancy in chunk:
            vacancy["match_keys"] = keys.vacancy_keys(
                isco08=vacancy["isco08"],
                province_code=vacancy["province_code"],
                destination_country=vacancy["destination_country"],
            )
            extra = {
                "worker_fees": json.dumps(vacancy["worker_fees"]),
                "created_by": "bench-loader",
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
            records.append(tuple(extra[c] if c in extra else vacancy[c] for c in VACANCY_COLUMNS))
        await conn.copy_records_to_table("vacancies", records=records, columns=VACANCY_COLUMNS)
        sample += chunk[::every]
    return sample


# -- measuring -------------------------------------------------------------------------------


async def _time(
    call: Callable[[int], Awaitable[Any]], requests: int, warmup: int
) -> tuple[dict[str, float], list[float], dict[int, Any]]:
    """Latency summary, each measured request's seconds, and what each call returned."""
    answers: dict[int, Any] = {}
    for i in range(warmup):
        await call(i)
    seconds = []
    for i in range(warmup, warmup + requests):
        started = time.perf_counter()
        answers[i] = await call(i)
        seconds.append(time.perf_counter() - started)
    return latency_summary(seconds), seconds, answers


async def _fetch(conn: AsyncConnection, query: Query, key: str) -> list[tuple[str, float]]:
    result = await conn.execute(text(query.sql), query.params)
    return [(str(row[key]), float(row["score"])) for row in result.mappings()]


def _compare(
    api: Mapping[int, Any], scan: Mapping[int, Any], cases: Sequence[Any], first: int
) -> dict[str, Any]:
    """The API's top ids against the full scan's, in order, on EXACT_CASES measured cases."""
    checked = [i for i in range(first, first + EXACT_CASES) if i in api and i in scan]
    mismatches = []
    for i in checked:
        mine = [item_id for item_id, _ in api[i]["items"]]
        theirs = [item_id for item_id, _ in scan[i]]
        if mine != theirs:
            rank = next(
                (n for n, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
                min(len(mine), len(theirs)),
            )
            mismatches.append(
                {
                    "case": str(cases[i]),
                    "rank": rank + 1,
                    "same_set": set(mine) == set(theirs),
                    "api": api[i]["items"][rank : rank + 3],
                    "full_scan": [(item, round(s, 4)) for item, s in scan[i][rank : rank + 3]],
                }
            )
    return {"cases": len(checked), "mismatches": len(mismatches), "details": mismatches[:5]}


def _lookups(answers: Mapping[int, Any]) -> dict[str, Any]:
    groups = [a["groups"] for a in answers.values()]
    return {
        "mean": round(sum(groups) / len(groups), 2) if groups else 0.0,
        "max": max(groups, default=0),
        "histogram": {str(g): groups.count(g) for g in sorted(set(groups))},
    }


def _slowest(
    seconds: Sequence[float], cases: Sequence[Any], warmup: int, answers: Mapping[int, Any]
) -> list[dict[str, Any]]:
    ranked = sorted(range(len(seconds)), key=lambda n: -seconds[n])[:3]
    return [
        {
            "case": str(cases[warmup + n]),
            "ms": round(seconds[n] * 1000, 1),
            "groups_searched": answers[warmup + n]["groups"],
        }
        for n in ranked
    ]


def _figure(
    lx: tuple[dict[str, float], list[float], dict[int, Any]],
    ref: tuple[dict[str, float], list[float], dict[int, Any]],
    cases: Sequence[Any],
    warmup: int,
) -> dict[str, Any]:
    api_p95, scan_p95 = lx[0]["p95_ms"], ref[0]["p95_ms"]
    return {
        "labourx": lx[0],
        "full_scan": ref[0],
        "ratio": round(scan_p95 / api_p95, 1) if api_p95 else None,
        "target_p95_ms": TARGET_P95_MS,
        "target_met": api_p95 <= TARGET_P95_MS,
        "groups_searched": _lookups(lx[2]),
        "exactness": _compare(lx[2], ref[2], cases, warmup),
        "slowest": _slowest(lx[1], cases, warmup, lx[2]),
    }


async def run(
    env: Environment,
    candidates_count: int,
    vacancies_count: int,
    requests: int,
    seed: int = 11,
) -> dict[str, Any]:
    """Load, serve, time both directions against the full scan; the matching database is
    created here and dropped at the end (bench.environment provisions only what others use)."""
    await prepare_databases(env.settings, [SERVICES[SERVICE]])
    try:
        return await _run(env, candidates_count, vacancies_count, requests, seed)
    finally:
        await drop_database(env.settings, SERVICE)


async def _run(
    env: Environment, candidates_count: int, vacancies_count: int, requests: int, seed: int
) -> dict[str, Any]:
    today = clock.today()
    conn = await asyncpg.connect(env.dsn(SERVICE))
    try:
        started = time.perf_counter()
        people, counts = await load_candidates(conn, candidates_count, seed, today)
        candidates_s = time.perf_counter() - started
        started = time.perf_counter()
        vacancies = await load_job_bank(conn, vacancies_count, seed, today)
        vacancies_s = time.perf_counter() - started
        started = time.perf_counter()
        # Flushes the GIN indexes' pending lists and gathers statistics, as autovacuum would
        # have done long before a real labour bank reached this size.
        for table in ("candidates", "candidate_orientations", "employers", "agencies", "vacancies"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        vacuum_s = time.perf_counter() - started
    finally:
        await conn.close()
    results: dict[str, Any] = {
        "candidates": candidates_count,
        "vacancies": vacancies_count,
        "requests": requests,
        "today": today.isoformat(),
        "loaded": {
            **{f"{k}_candidates": v for k, v in counts.items()},
            "candidates_s": round(candidates_s, 1),
            "vacancies_s": round(vacancies_s, 1),
            "vacuum_analyze_s": round(vacuum_s, 1),
        },
    }
    warmup = max(1, requests // 10)
    rng = random.Random(seed)
    vacancy_cases = [rng.choice(vacancies) for _ in range(warmup + requests)]
    person_cases = [rng.choice(people) for _ in range(warmup + requests)]
    token = mint_token(env.settings, subject="bench-national", roles=["esc_staff"], national=True)
    headers = {"Authorization": f"Bearer {token}"}

    api = await start_labourx_api(env, SERVICE, "matching-api-queries")
    try:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=60, headers=headers) as client:

            async def get(path: str) -> dict[str, Any]:
                answer = await client.get(path, params={"limit": LIMIT})
                if answer.status_code == 404 and "items" not in answer.text:
                    raise RuntimeError(
                        f"GET {path} answered 404 {answer.text[:200]}: is the ranking router "
                        "mounted in services/matching/app.py?"
                    )
                answer.raise_for_status()
                body: dict[str, Any] = answer.json()
                return body

            async def candidates_api(i: int) -> dict[str, Any]:
                body = await get(f"/v1/vacancies/{vacancy_cases[i]['id']}/candidates")
                return {
                    "items": [(x["person_id"], x["score"]) for x in body["items"]],
                    "groups": body["search"]["groups_searched"],
                }

            async def vacancies_api(i: int) -> dict[str, Any]:
                body = await get(f"/v1/people/{person_cases[i]}/vacancies")
                return {
                    "items": [(x["vacancy_id"], x["score"]) for x in body["items"]],
                    "groups": body["search"]["groups_searched"],
                }

            lx_candidates = await _time(candidates_api, requests, warmup)
            lx_vacancies = await _time(vacancies_api, requests, warmup)
    finally:
        api.child.stop()

    engine = create_engine(env.settings, SERVICE)
    try:
        async with AsyncSession(engine) as session:
            profiles: list[PersonProfile] = []
            for person_id in person_cases:
                candidate = await session.get(Candidate, person_id)
                assert candidate is not None
                profiles.append(await person_profile(session, candidate, today))
        terms = [vacancy_terms(Vacancy(**case)) for case in vacancy_cases]
        async with engine.connect() as db:

            async def candidates_scan(i: int) -> list[tuple[str, float]]:
                query = candidates_for(terms[i], FULL_SCAN, limit=LIMIT, today=today)
                return await _fetch(db, query, "person_id")

            async def vacancies_scan(i: int) -> list[tuple[str, float]]:
                query = vacancies_for(profiles[i], FULL_SCAN, limit=LIMIT, today=today)
                return await _fetch(db, query, "id")

            ref_candidates = await _time(candidates_scan, requests, warmup)
            ref_vacancies = await _time(vacancies_scan, requests, warmup)
    finally:
        await engine.dispose()

    results["candidates_for_vacancy"] = _figure(
        lx_candidates, ref_candidates, [c["id"] for c in vacancy_cases], warmup
    )
    results["candidates_for_vacancy"]["by_kind"] = _by_kind(
        lx_candidates, ref_candidates, vacancy_cases, warmup
    )
    results["vacancies_for_person"] = _figure(lx_vacancies, ref_vacancies, person_cases, warmup)
    return results


def _by_kind(
    lx: tuple[dict[str, float], list[float], dict[int, Any]],
    ref: tuple[dict[str, float], list[float], dict[int, Any]],
    cases: Sequence[Mapping[str, Any]],
    warmup: int,
) -> dict[str, Any]:
    """Domestic and overseas vacancies apart: their searches differ (province vs country)."""
    split: dict[str, Any] = {}
    for kind in ("domestic", "overseas"):
        chosen = [n for n in range(len(lx[1])) if cases[warmup + n]["kind"] == kind]
        split[kind] = {
            "labourx": latency_summary([lx[1][n] for n in chosen]),
            "full_scan": latency_summary([ref[1][n] for n in chosen]),
        }
    return split


# -- the printed table -----------------------------------------------------------------------

DIRECTIONS = {
    "candidates_for_vacancy": "candidates for a vacancy",
    "vacancies_for_person": "jobs for a person",
}


def checks(matching: Mapping[str, Any]) -> list[report.Check]:
    found = []
    for key, title in DIRECTIONS.items():
        figure = matching[key]
        p95 = figure["labourx"].get("p95_ms", float("inf"))
        found.append(
            report.Check(
                f"matching {title} p95 ms ({matching['candidates']:,} candidates, "
                f"{matching['vacancies']:,} vacancies)",
                p95,
                f"<= {TARGET_P95_MS:.0f}",
                p95 <= TARGET_P95_MS,
            )
        )
        exact = figure["exactness"]
        found.append(
            report.Check(
                f"matching {title}: top {LIMIT} differing from the full scan's "
                f"({exact['cases']} cases)",
                exact["mismatches"],
                "0",
                exact["mismatches"] == 0,
            )
        )
    return found


def rows(matching: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, labourx, reference, ratio) rows, as bench/report.py prints the others."""
    loaded = matching["loaded"]
    load_s = loaded["candidates_s"] + loaded["vacancies_s"] + loaded["vacuum_analyze_s"]
    found = [
        (
            f"Matching, top {LIMIT} of {matching['candidates']:,} candidates "
            f"({loaded['matchable_today_candidates']:,} matchable) / {matching['vacancies']:,} "
            f"vacancies, one request at a time (reference: full scan), loaded in "
            f"{report._n(load_s, 's')}",
            "",
            "",
            "",
        )
    ]
    for key, title in DIRECTIONS.items():
        figure = matching[key]
        lookups = figure["groups_searched"]
        exact = figure["exactness"]
        found += [
            (
                f"  {title} p50 / p95 / p99",
                report._lat(figure["labourx"], "p50_ms", "p95_ms", "p99_ms"),
                report._lat(figure["full_scan"], "p50_ms", "p95_ms", "p99_ms"),
                f"{figure['ratio']:.1f}x faster" if figure["ratio"] else "-",  # scan / labourx
            ),
            (
                "    index lookups per request (mean / max)",
                f"{lookups['mean']:.2f} / {lookups['max']}",
                "",
                "",
            ),
            (
                f"    top {LIMIT} equal to the full scan's",
                f"{exact['cases'] - exact['mismatches']} of {exact['cases']}",
                "",
                "",
            ),
        ]
        for kind, split in figure.get("by_kind", {}).items():
            found.append(
                (
                    f"    {kind} vacancies p50 / p95",
                    report._lat(split["labourx"], "p50_ms", "p95_ms"),
                    report._lat(split["full_scan"], "p50_ms", "p95_ms"),
                    "",
                )
            )
    return found


def render(matching: Mapping[str, Any]) -> str:
    return report.figure_tables(rows(matching), checks(matching))
