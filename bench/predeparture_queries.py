"""Figure 6: pre-departure orientation: roster entry and completion recomputation (issue 5,
item 11).

A synthetic cohort is loaded straight into predeparture's tables with COPY, as the service
would hold it after registry's events and a few months of sessions: learners (the read model),
closed sessions of the default curriculum (migration 0002: 8 general modules and the
destination's own), enrolments and attendance. Most people attended all 9 modules of one
session; some missed one (absent), some were excused from one and made it up in a later session,
within the 6-month window or after it, some were excused and have not made it up, a few have no
destination in the read model yet or another one than the module they attended, a few were
merged into another record. Each kind's share is in KINDS; what the rule should conclude for
each is known from how it was generated.

Completion recomputation: `completions.recomputing.recompute` over every loaded person, in batches
of BATCH each in its own transaction, as a full recomputation job would run it; every certificate
it issues is numbered, given its verification hash and its OrientationCompleted event staged in
the outbox. Then the same pass again, which finds nothing to change. The reference, in the same
run on the same data, is one SQL query (COMPLETED_SQL) that finds everyone who has every
mandatory module for a destination within the window, writing nothing: the ratio is what the
rule's generality in Python, the certificates and the events cost. Correctness: the (person,
destination) pairs holding a valid certificate after the pass are exactly the query's, and the
query finds exactly the completions the data was generated with.

The one query writes nothing, where the pass writes 85,916 certificates (five indexes) and as
many outbox rows and locks every learner: that ratio also counts the writing itself, which any
implementation pays. So a second, fair reference (issue 19) does the same work with raw asyncpg
(`_reference_issue`): every active learner locked, the query returning what a certificate needs
(ISSUED_SQL, for the pairs without a valid one), each certificate numbered, given its id and
verification hash and inserted with the service's own statement, and its OrientationCompleted
envelope built as a dict, encoded once and inserted into the outbox, in one transaction rolled
back afterwards (so it also skips the commits' WAL flushes); then again after the service's
pass, when it finds nothing to write. Both ratios are reported.

Roster entry: `PUT /v1/sessions/{id}/attendance` through `labourx api predeparture`, one
request at a time, each for a fresh started session of 60 enrolled people across its 9 modules,
everyone present. A roster saved while the session runs issues nothing: certificates come when
the session is closed after its end, by the same recomputation measured above. Then each
roster is sent again, which changes nothing. The reference is the minimal equivalent sent
straight to PostgreSQL with asyncpg: one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO
UPDATE ... WHERE changed` of the 540 cells in a transaction, on sessions of its own of the same
shape; sent again, it too changes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from bench import report
from bench.cpu import CpuMeter
from bench.processes import start_labourx_api
from bench.stats import latency_summary
from bench.tree import SERVICES
from services.predeparture.completions import domain
from services.predeparture.completions import recomputing as completions
from services.predeparture.completions.certificates import code_key
from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID, default_curriculum
from shared import clock
from shared.auth import mint_token
from shared.clock import LAO_TIME
from shared.db import create_engine, drop_database, session_factory
from shared.events.predeparture import OrientationCompleted
from shared.provision import prepare_databases
from shared.reference.offices import SEED_MRCS

if TYPE_CHECKING:
    from bench.environment import Environment

SERVICE = "predeparture"
CLASS_SIZE = 60  # people in a session (issue 5, item 11)
BATCH = 5_000  # people per transaction of the full recomputation
REFERENCE_RUNS = 3  # the reference query's measured runs (median kept), after one unmeasured
LOADER = "bench-loader"

MODULES = default_curriculum()["modules"]
GENERAL = tuple(m["code"] for m in MODULES if m["mandatory"] and not m["destinations"])
DESTINATION_MODULE = {d: m["code"] for m in MODULES if m["mandatory"] for d in m["destinations"]}
DESTINATIONS = {"TH": 60, "KR": 20, "JP": 10, "MY": 10}  # shares of the cohort, per cent
OFFICES = tuple(SEED_MRCS)

# What each loaded person did, with its share of the cohort; True: the rule is met (one
# certificate, for the destination of the modules attended).
KINDS: dict[str, tuple[float, bool]] = {
    "complete": (0.78, True),  # all 9 modules present in one session
    "made_up": (0.05, True),  # excused from one, present in a later session within the window
    "no_home": (0.02, True),  # complete, but the read model has no destination for them yet
    "other_home": (0.01, True),  # complete for one destination, the read model names another
    "absent": (0.06, False),  # absent from one module
    "excused": (0.04, False),  # excused from one module, not made up yet
    "too_late": (0.02, False),  # excused from one, made up more than 6 months later
    "merged": (0.02, False),  # complete, but merged into another record since
}

LEARNER_COLUMNS = (
    "person_id", "reference", "initials", "sex", "date_of_birth", "province_code", "office_code",
    "migration_status", "destination_country", "record_status", "merged_into", "record_version",
    "created_at", "updated_at",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "office_code", "province_code", "curriculum_id", "starts_at", "ends_at", "facilitator",
    "language", "venue", "capacity", "planned_modules", "status", "created_by",
)  # fmt: skip
ENROLMENT_COLUMNS = (
    "id", "session_id", "person_id", "status", "destination_country", "created_by",
    "created_at", "updated_at",
)  # fmt: skip
ATTENDANCE_COLUMNS = (
    "session_id", "person_id", "module_code", "status", "recorded_by", "recorded_at",
)  # fmt: skip

# Everyone who has completed orientation for a destination, computed in one query and written
# nowhere: for each active learner, the destinations to check (their own, and each whose
# specific module they attended present), and for each the mandatory modules that apply
# (general, or that destination's), all attended present in sessions not cancelled, the
# earliest and latest within the curriculum's window, the destination covered by a module of
# its own. One present attendance per person and module (as loaded) makes the window a
# comparison of the earliest and latest day; the rule's sweep (completions/domain.py) also
# handles modules attended more than once, and several versions of a curriculum.
COMPLETED_SQL = """
WITH required AS (
    SELECT m.curriculum_id, m.code, m.destinations
    FROM curriculum_modules m
    WHERE m.mandatory
),
present AS (
    SELECT a.person_id, a.module_code, s.curriculum_id,
           (s.starts_at AT TIME ZONE INTERVAL '+07:00')::date AS day
    FROM attendance a
    JOIN orientation_sessions s ON s.id = a.session_id
    JOIN learners l ON l.person_id = a.person_id
    WHERE a.status = 'present' AND s.status <> 'cancelled' AND l.record_status = 'active'
),
checked AS (
    SELECT l.person_id, l.destination_country AS destination
    FROM learners l
    WHERE l.record_status = 'active' AND l.destination_country IS NOT NULL
    UNION
    SELECT p.person_id, d.destination
    FROM present p
    JOIN required r ON r.curriculum_id = p.curriculum_id AND r.code = p.module_code
    CROSS JOIN LATERAL unnest(r.destinations) AS d(destination)
)
SELECT DISTINCT k.person_id, k.destination
FROM checked k
JOIN present p ON p.person_id = k.person_id
JOIN required r ON r.curriculum_id = p.curriculum_id AND r.code = p.module_code
     AND (r.destinations = '{}' OR k.destination = ANY(r.destinations))
JOIN curricula c ON c.id = p.curriculum_id
GROUP BY k.person_id, k.destination, c.id, c.completion_window_months
HAVING count(DISTINCT r.code) = (
           SELECT count(*) FROM required q
           WHERE q.curriculum_id = c.id
             AND (q.destinations = '{}' OR k.destination = ANY(q.destinations)))
   AND bool_or(r.destinations <> '{}')
   AND max(p.day) <= min(p.day) + make_interval(months => c.completion_window_months)
"""

# The fair reference of the recomputation (issue 19): the same query, returning what a
# certificate needs (the version, the day the last module was attended, the office of that
# day's session, the last valid day), for the pairs that hold no valid certificate yet. With
# LOCK_SQL, numbering, codes and the writes (`_reference_issue`), it does what a full
# recomputation must do when nearly everyone completes, through raw asyncpg: the ratio against
# it is what the service's own code adds, where the one query's is also the writing itself.
ISSUED_SQL = """
WITH required AS (
    SELECT m.curriculum_id, m.code, m.destinations
    FROM curriculum_modules m
    WHERE m.mandatory
),
present AS (
    SELECT a.person_id, a.module_code, s.curriculum_id, s.office_code,
           (s.starts_at AT TIME ZONE INTERVAL '+07:00')::date AS day
    FROM attendance a
    JOIN orientation_sessions s ON s.id = a.session_id
    JOIN learners l ON l.person_id = a.person_id
    WHERE a.status = 'present' AND s.status = 'closed' AND l.record_status = 'active'
),
checked AS (
    SELECT l.person_id, l.destination_country AS destination
    FROM learners l
    WHERE l.record_status = 'active' AND l.destination_country IS NOT NULL
    UNION
    SELECT p.person_id, d.destination
    FROM present p
    JOIN required r ON r.curriculum_id = p.curriculum_id AND r.code = p.module_code
    CROSS JOIN LATERAL unnest(r.destinations) AS d(destination)
)
SELECT k.person_id, k.destination, c.id AS curriculum_id, max(p.day) AS completed_on,
       (max(p.day) + make_interval(months => c.validity_months))::date AS valid_until,
       (max(ARRAY[to_char(p.day, 'YYYYMMDD'), p.office_code]))[2] AS office_code
FROM checked k
JOIN present p ON p.person_id = k.person_id
JOIN required r ON r.curriculum_id = p.curriculum_id AND r.code = p.module_code
     AND (r.destinations = '{}' OR k.destination = ANY(r.destinations))
JOIN curricula c ON c.id = p.curriculum_id
WHERE NOT EXISTS (
    SELECT 1 FROM completions o
    WHERE o.person_id = k.person_id AND o.destination_country = k.destination
      AND o.status = 'valid')
GROUP BY k.person_id, k.destination, c.id, c.completion_window_months, c.validity_months
HAVING count(DISTINCT r.code) = (
           SELECT count(*) FROM required q
           WHERE q.curriculum_id = c.id
             AND (q.destinations = '{}' OR k.destination = ANY(q.destinations)))
   AND bool_or(r.destinations <> '{}')
   AND max(p.day) <= min(p.day) + make_interval(months => c.completion_window_months)
ORDER BY k.person_id, k.destination
"""
LOCK_SQL = """
SELECT count(*) FROM (
    SELECT person_id FROM learners WHERE record_status = 'active'
    ORDER BY person_id FOR NO KEY UPDATE
) locked
"""
OUTBOX_SQL = """
INSERT INTO outbox (event_id, topic, key, type, value)
SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::text[], $4::varchar[], $5::bytea[])
"""
NUMBERS_SQL = "SELECT nextval('completion_certificate_numbers') FROM generate_series(1, $1)"
# The service's own insert of certificates (completions/recomputing.py), with asyncpg's
# positional parameters.
COMPLETION_COLUMNS = (
    "id", "person_id", "destination_country", "curriculum_id", "completed_on", "valid_until",
    "certificate_number", "verification_hash", "office_code",
)  # fmt: skip
INSERT_COMPLETIONS_SQL = """
INSERT INTO completions (id, person_id, destination_country, curriculum_id, completed_on,
                         valid_until, certificate_number, verification_hash, office_code,
                         status, issued_at)
SELECT r.*, 'valid', $10
FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::uuid[], $5::date[], $6::date[],
            $7::varchar[], $8::varchar[], $9::varchar[]) AS r
ON CONFLICT (person_id, destination_country) WHERE status = 'valid' DO NOTHING
RETURNING id
"""

# The reference's roster entry: the cells set in one statement, a cell whose status is
# unchanged left alone (so a roster sent again changes nothing), in a transaction.
ROSTER_SQL = """
INSERT INTO attendance AS a
    (session_id, person_id, module_code, status, recorded_by, recorded_at)
SELECT $1, r.person_id, r.module_code, r.status, $5, now()
FROM unnest($2::uuid[], $3::varchar[], $4::varchar[]) AS r(person_id, module_code, status)
ON CONFLICT (session_id, person_id, module_code) DO UPDATE
SET status = excluded.status, recorded_by = excluded.recorded_by,
    recorded_at = excluded.recorded_at
WHERE a.status IS DISTINCT FROM excluded.status
"""


# -- the synthetic cohort --------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), LAO_TIME)


@dataclass
class Loader:
    """Rows of learners, sessions, enrolments and attendance, appended as they are made."""

    rng: random.Random
    now: datetime
    learners: list[tuple[Any, ...]] = field(default_factory=list)
    sessions: list[tuple[Any, ...]] = field(default_factory=list)
    enrolments: list[tuple[Any, ...]] = field(default_factory=list)
    attendance: list[tuple[Any, ...]] = field(default_factory=list)
    made: int = 0

    def learner(self, office: str, destination: str | None, *, merged: bool = False) -> uuid.UUID:
        person_id = _uuid(self.rng)
        self.made += 1
        self.learners.append(
            (
                person_id,
                f"P-B{self.made:07d}",
                f"{chr(65 + self.rng.randrange(26))}. {chr(65 + self.rng.randrange(26))}.",
                self.rng.choice(("female", "male")),
                date(1975, 1, 1) + timedelta(days=self.rng.randrange(11_000)),
                SEED_MRCS[office].province_code,
                office,
                "prospective" if destination else None,
                destination,
                "merged" if merged else "active",
                _uuid(self.rng) if merged else None,
                1,
                self.now,
                self.now,
            )
        )
        return person_id

    def session(self, office: str, destination: str, starts_at: datetime, status: str) -> uuid.UUID:
        session_id = _uuid(self.rng)
        self.sessions.append(
            (
                session_id,
                office,
                SEED_MRCS[office].province_code,
                DEFAULT_CURRICULUM_ID,
                starts_at,
                starts_at + timedelta(hours=8),
                "Khamla Vongsa",
                "lo",
                SEED_MRCS[office].name_en,
                CLASS_SIZE,
                [*GENERAL, DESTINATION_MODULE[destination]],
                status,
                LOADER,
            )
        )
        return session_id

    def enrol(
        self, session_id: uuid.UUID, person_id: uuid.UUID, destination: str, at: datetime
    ) -> None:
        self.enrolments.append(
            (_uuid(self.rng), session_id, person_id, "enrolled", destination, LOADER, at, at)
        )

    def attend(
        self, session_id: uuid.UUID, person_id: uuid.UUID, module: str, status: str, at: datetime
    ) -> None:
        self.attendance.append((session_id, person_id, module, status, LOADER, at))

    async def copy(self, conn: asyncpg.Connection) -> dict[str, int]:
        """COPY the rows made so far, then let them go: a million rows held in this process
        would make each of its full garbage collections, during the measurements, take
        seconds. Returns how many rows of each table were loaded."""
        loaded = {}
        for table, rows, columns in (
            ("learners", self.learners, LEARNER_COLUMNS),
            ("orientation_sessions", self.sessions, SESSION_COLUMNS),
            ("enrolments", self.enrolments, ENROLMENT_COLUMNS),
            ("attendance", self.attendance, ATTENDANCE_COLUMNS),
        ):
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            loaded[table] = len(rows)
            rows.clear()
        gc.collect()
        return loaded


@dataclass(frozen=True)
class Person:
    person_id: uuid.UUID
    kind: str
    attended: str  # the destination of the modules attended
    missed: str | None  # the module absent or excused from in the first session


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def cohort(loader: Loader, count: int, today: date) -> tuple[list[uuid.UUID], dict[str, int]]:
    """`count` learners with a few months of attendance (see KINDS); their ids, and how many
    of each kind and how many certificates the rule should issue."""
    people = _cohort_people(loader, count)
    _first_sessions(loader, people, today)
    _make_up_sessions(loader, people, today)
    counts = {kind: sum(1 for p in people if p.kind == kind) for kind in KINDS}
    counts["expected_certificates"] = sum(1 for p in people if KINDS[p.kind][1])
    return [p.person_id for p in people], counts


def _cohort_people(loader: Loader, count: int) -> list[Person]:
    """`count` learners of the kinds of KINDS, each heading to a destination."""
    rng = loader.rng
    kinds = {kind: share for kind, (share, _) in KINDS.items()}
    people: list[Person] = []
    for _ in range(count):
        kind = _weighted(rng, kinds)
        attended = _weighted(rng, DESTINATIONS)
        home: str | None = attended
        if kind == "no_home":
            home = None
        elif kind == "other_home":
            home = rng.choice([d for d in DESTINATIONS if d != attended])
        office = rng.choice(OFFICES)
        person_id = loader.learner(office, home, merged=kind == "merged")
        modules = [*GENERAL, DESTINATION_MODULE[attended]]
        missed = (
            rng.choice(modules) if kind in ("absent", "excused", "made_up", "too_late") else None
        )
        people.append(Person(person_id, kind, attended, missed))
    return people


def _first_sessions(loader: Loader, people: list[Person], today: date) -> None:
    """First sessions: 60 people of one destination each, held 30 to 150 days ago (those who
    will make a module up too late: 230 to 290 days ago), at one of the centres."""
    rng = loader.rng
    groups: dict[tuple[bool, str], list[Person]] = {}
    for person in people:
        groups.setdefault((person.kind == "too_late", person.attended), []).append(person)
    for (old, destination), members in sorted(groups.items()):
        for first in range(0, len(members), CLASS_SIZE):
            days_ago = rng.randint(230, 290) if old else rng.randint(30, 150)
            starts_at = _at(today - timedelta(days=days_ago))
            session_id = loader.session(rng.choice(OFFICES), destination, starts_at, "closed")
            for person in members[first : first + CLASS_SIZE]:
                loader.enrol(
                    session_id, person.person_id, destination, starts_at - timedelta(days=7)
                )
                for module in [*GENERAL, DESTINATION_MODULE[destination]]:
                    status = "present"
                    if module == person.missed:
                        status = "absent" if person.kind == "absent" else "excused"
                    loader.attend(
                        session_id, person.person_id, module, status, starts_at + timedelta(hours=8)
                    )


def _make_up_sessions(loader: Loader, people: list[Person], today: date) -> None:
    """Make-up sessions in the last 29 days: those excused attend the module they missed."""
    rng = loader.rng
    late = [p for p in people if p.kind in ("made_up", "too_late")]
    by_destination: dict[str, list[Person]] = {}
    for person in late:
        by_destination.setdefault(person.attended, []).append(person)
    for destination, members in sorted(by_destination.items()):
        for first in range(0, len(members), CLASS_SIZE):
            starts_at = _at(today - timedelta(days=rng.randint(1, 29)))
            session_id = loader.session(rng.choice(OFFICES), destination, starts_at, "closed")
            for person in members[first : first + CLASS_SIZE]:
                assert person.missed is not None
                loader.enrol(
                    session_id, person.person_id, destination, starts_at - timedelta(days=7)
                )
                loader.attend(
                    session_id,
                    person.person_id,
                    person.missed,
                    "present",
                    starts_at + timedelta(hours=8),
                )


@dataclass(frozen=True)
class Roster:
    session_id: uuid.UUID
    office: str
    persons: list[uuid.UUID]
    modules: list[str]
    body: bytes  # the PUT body, encoded once


def rosters(loader: Loader, count: int) -> list[Roster]:
    """`count` sessions that started an hour ago, each with 60 enrolled learners (all heading to
    the session's destination) and an empty roster; each one's whole roster, everyone present."""
    rng = loader.rng
    found = []
    starts_at = loader.now - timedelta(hours=1)
    for _ in range(count):
        office = rng.choice(OFFICES)
        destination = _weighted(rng, DESTINATIONS)
        session_id = loader.session(office, destination, starts_at, "scheduled")
        persons = [loader.learner(office, destination) for _ in range(CLASS_SIZE)]
        for person_id in persons:
            loader.enrol(session_id, person_id, destination, starts_at - timedelta(days=7))
        modules = [*GENERAL, DESTINATION_MODULE[destination]]
        rows = [
            {"person_id": str(p), "module_code": m, "status": "present"}
            for p in persons
            for m in modules
        ]
        found.append(
            Roster(session_id, office, persons, modules, json.dumps({"rows": rows}).encode())
        )
    return found


# -- measuring -------------------------------------------------------------------------------


def _cores(meter: CpuMeter) -> dict[str, float]:
    return {**meter.shares(), "rest of machine": round(meter.others_s() / meter.wall_s, 2)}


def _compare(lx: Sequence[float], ref: Sequence[float]) -> dict[str, Any]:
    api, reference = latency_summary(lx), latency_summary(ref)
    return {
        "labourx": api,
        "reference": reference,
        "p95_ratio": round(api["p95_ms"] / reference["p95_ms"], 1) if reference["p95_ms"] else None,
    }


Call = Callable[[int], Awaitable[Any]]


async def _interleaved(
    api: Call, reference: Call, first: int, count: int
) -> tuple[list[float], list[Any], list[float], list[Any]]:
    """Calls `first .. first + count` of each, one at a time, the API's and the reference's in
    turn (which goes first alternating), so that whatever else the server is doing (a
    checkpoint, autovacuum) falls on both alike: seconds and answers of each."""
    api_s: list[float] = []
    api_answers: list[Any] = []
    ref_s: list[float] = []
    ref_answers: list[Any] = []
    for i in range(first, first + count):
        order = ((api, api_s, api_answers), (reference, ref_s, ref_answers))
        for call, seconds, answers in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            answers.append(await call(i))
            seconds.append(time.perf_counter() - started)
    return api_s, api_answers, ref_s, ref_answers


def _tokens(env: Environment) -> dict[str, str]:
    """A bearer token of an MRC officer of each centre (attendance is entered by its staff)."""
    return {
        office: mint_token(
            env.settings,
            subject=f"{office.lower()}-bench",
            roles=["mrc_staff"],
            office=office,
            province=province,
        )
        for office, province in ((c, o.province_code) for c, o in SEED_MRCS.items())
    }


async def _rosters(
    env: Environment,
    api_cases: Sequence[Roster],
    ref_cases: Sequence[Roster],
    warmup: int,
    requests: int,
) -> dict[str, Any]:
    """Each roster entered, then each sent again: through the API, and by the reference on
    sessions of its own, in turn."""
    tokens = _tokens(env)
    columns = [
        (
            case.session_id,
            [p for p in case.persons for _ in case.modules],
            [m for _ in case.persons for m in case.modules],
            ["present"] * (len(case.persons) * len(case.modules)),
        )
        for case in ref_cases
    ]
    api = await start_labourx_api(env, SERVICE, "predeparture-api-roster")
    conn = await asyncpg.connect(env.dsn(SERVICE))
    try:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as client:

            async def put(i: int) -> dict[str, Any]:
                case = api_cases[i]
                answer = await client.put(
                    f"/v1/sessions/{case.session_id}/attendance",
                    content=case.body,
                    headers={
                        "Authorization": f"Bearer {tokens[case.office]}",
                        "Content-Type": "application/json",
                    },
                )
                if answer.status_code != 200:
                    raise RuntimeError(
                        f"PUT attendance of {case.session_id} answered {answer.status_code} "
                        f"{answer.text[:300]}"
                    )
                body = answer.json()
                return {
                    "changed": body["changed"],
                    "issued": len(body["certificates"]["issued"]),
                    "withdrawn": len(body["certificates"]["withdrawn"]),
                }

            async def write(i: int) -> str:
                session_id, persons, modules, statuses = columns[i]
                async with conn.transaction():
                    done: str = await conn.execute(
                        ROSTER_SQL, session_id, persons, modules, statuses, "bench-reference"
                    )
                return done

            meter = CpuMeter(
                {"server": api.child.pid, "postgres": env.postgres_pid, "client": os.getpid()}
            )
            await _interleaved(put, write, 0, warmup)
            meter.start()
            entry = await _interleaved(put, write, warmup, requests)
            meter.stop()
            entry_cores = _cores(meter)
            await _interleaved(put, write, 0, warmup)
            meter.start()
            again = await _interleaved(put, write, warmup, requests)
            meter.stop()
    finally:
        await conn.close()
        api.child.stop()
    cells = len(api_cases[0].persons) * len(api_cases[0].modules)
    if any(done != f"INSERT 0 {cells}" for done in entry[3]) or any(
        done != "INSERT 0 0" for done in again[3]
    ):
        raise RuntimeError(
            f"the reference's roster writes did not do what was expected: {entry[3]}"
        )
    return {
        "roster_entry": _compare(entry[0], entry[2])
        | {
            # Every cell written, and no certificate before the session is closed.
            "all_written": sum(
                1 for a in entry[1] if a["changed"] == cells and a["issued"] == a["withdrawn"] == 0
            ),
            "cores_used": entry_cores,
        },
        "roster_again": _compare(again[0], again[2])
        | {
            "unchanged": sum(
                1 for a in again[1] if a["changed"] == 0 and a["issued"] == a["withdrawn"] == 0
            ),
            "cores_used": _cores(meter),
        },
        "busiest_other_processes": meter.others_by_name,
    }


async def _recompute(env: Environment, people: Sequence[uuid.UUID], today: date) -> dict[str, Any]:
    """`completions.recompute` over everyone, BATCH people per transaction."""
    ids = sorted(people)
    engine = create_engine(env.settings, SERVICE)
    sessions = session_factory(engine)
    issued = withdrawn = 0
    batches = []
    meter = CpuMeter({"worker": os.getpid(), "postgres": env.postgres_pid}).start()
    started = time.perf_counter()
    try:
        for first in range(0, len(ids), BATCH):
            batch_started = time.perf_counter()
            async with sessions() as session, session.begin():
                outcome = await completions.recompute(
                    session,
                    ids[first : first + BATCH],
                    settings=env.settings,
                    today=today,
                    by="bench-recompute",
                )
            batches.append(time.perf_counter() - batch_started)
            issued += len(outcome.issued)
            withdrawn += len(outcome.withdrawn)
        seconds = time.perf_counter() - started
        meter.stop()
    finally:
        await engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "people_per_s": round(len(ids) / seconds),
        "issued": issued,
        "withdrawn": withdrawn,
        "batches": len(batches),
        "batch_s": {
            "median": round(statistics.median(batches), 2),
            "max": round(max(batches), 2),
        },
        "cores_used": _cores(meter),
        "busiest_other_processes": meter.others_by_name,
    }


async def _reference_query(
    conn: asyncpg.Connection,
) -> tuple[list[float], set[tuple[uuid.UUID, str]]]:
    """The reference query's seconds on each measured run, and the pairs it found."""
    found = await conn.fetch(COMPLETED_SQL)  # unmeasured: plans and warms like the others
    runs = []
    for _ in range(REFERENCE_RUNS):
        started = time.perf_counter()
        found = await conn.fetch(COMPLETED_SQL)
        runs.append(time.perf_counter() - started)
    return runs, {(r["person_id"], r["destination"]) for r in found}


async def _reference_issue(conn: asyncpg.Connection, key: bytes) -> tuple[float, int]:
    """The fair reference: every active learner locked, the query, each certificate numbered,
    given its id and verification hash, inserted with the service's own statement, and its
    OrientationCompleted event (a CloudEvents envelope built as a dict, encoded once) written to
    the outbox, BATCH at a time, in one transaction that is rolled back (the service's pass
    then issues the same certificates). Its seconds, and the certificates it would issue."""
    started = time.perf_counter()
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.fetchval(LOCK_SQL)
        found = await conn.fetch(ISSUED_SQL)
        numbers = [r[0] for r in await conn.fetch(NUMBERS_SQL, len(found))] if found else []
        now = datetime.now(UTC)
        for first in range(0, len(found), BATCH):
            part = found[first : first + BATCH]
            ids = [uuid.uuid4() for _ in part]
            certificates = [
                domain.certificate_number(r["completed_on"].year, n)
                for r, n in zip(part, numbers[first : first + BATCH], strict=True)
            ]
            columns: dict[str, Any] = {
                "id": ids,
                "person_id": [r["person_id"] for r in part],
                "destination_country": [r["destination"] for r in part],
                "curriculum_id": [r["curriculum_id"] for r in part],
                "completed_on": [r["completed_on"] for r in part],
                "valid_until": [r["valid_until"] for r in part],
                "certificate_number": certificates,
                "verification_hash": [
                    domain.verification_hash(domain.verification_code(key, i)) for i in ids
                ],
                "office_code": [r["office_code"] for r in part],
            }
            await conn.fetch(INSERT_COMPLETIONS_SQL, *(columns[c] for c in COMPLETION_COLUMNS), now)
            events = [
                _completed_event(r, number, now)
                for r, number in zip(part, certificates, strict=True)
            ]
            await conn.execute(
                OUTBOX_SQL,
                [e[0] for e in events],
                [OrientationCompleted.topic] * len(events),
                [str(r["person_id"]) for r in part],
                [OrientationCompleted.event_type()] * len(events),
                [e[1] for e in events],
            )
        return time.perf_counter() - started, len(found)
    finally:
        await transaction.rollback()


def _completed_event(row: asyncpg.Record, number: str, now: datetime) -> tuple[uuid.UUID, bytes]:
    """The OrientationCompleted envelope of a certificate, as the service's event carries it."""
    event_id = uuid.uuid4()
    envelope = {
        "specversion": "1.0",
        "id": str(event_id),
        "source": "/labourx/predeparture",
        "type": OrientationCompleted.event_type(),
        "subject": str(row["person_id"]),
        "time": now.isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"/{OrientationCompleted.schema_path()}",
        "correlationid": str(event_id),
        "data": {
            "person_id": str(row["person_id"]),
            "certificate_number": number,
            "destination_country": row["destination"],
            "completed_on": row["completed_on"].isoformat(),
            "valid_until": row["valid_until"].isoformat(),
            "office_code": row["office_code"],
            "recorded_at": now.isoformat(),
        },
    }
    return event_id, json.dumps(envelope, separators=(",", ":")).encode()


# -- the run ---------------------------------------------------------------------------------


async def run(env: Environment, learners: int, requests: int, seed: int = 17) -> dict[str, Any]:
    """Load, recompute, enter rosters, each against its reference; the predeparture database
    is created here and dropped at the end (bench.environment provisions only what others use)."""
    await prepare_databases(env.settings, [SERVICES[SERVICE]])
    try:
        return await _run(env, learners, requests, seed)
    finally:
        await drop_database(env.settings, SERVICE)


async def _settle(conn: asyncpg.Connection) -> None:
    """Statistics gathered and dead rows cleared, as autovacuum would have done long before,
    and what the loads (and the recomputation) left in shared buffers written out now rather
    than by a checkpoint spread over the next measurement (skipped where not permitted)."""
    await conn.execute("VACUUM ANALYZE")
    with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
        await conn.execute("CHECKPOINT")


async def _run(env: Environment, learners: int, requests: int, seed: int) -> dict[str, Any]:
    today = clock.today()
    warmup = max(1, requests // 10)
    loader = Loader(random.Random(seed), datetime.now(UTC))
    conn = await asyncpg.connect(env.dsn(SERVICE))
    try:
        started = time.perf_counter()
        people, counts = cohort(loader, learners, today)
        copied = await loader.copy(conn)
        loaded: dict[str, Any] = {
            "learners": copied["learners"],
            "sessions": copied["orientation_sessions"],
            "enrolments": copied["enrolments"],
            "attendance_rows": copied["attendance"],
            "kinds": counts,
        }
        await _settle(conn)
        loaded["cohort_s"] = round(time.perf_counter() - started, 1)

        recompute_ref_runs, reference_pairs = await _reference_query(conn)
        key = code_key(env.settings)
        fair_s, fair_issued = await _reference_issue(conn, key)
        await _settle(conn)  # what the rolled-back writes left, cleared before the service's
        recompute = await _recompute(env, people, today)
        fair_again_s, fair_again_issued = await _reference_issue(conn, key)
        again = await _recompute(env, people, today)
        valid = {
            (r["person_id"], r["destination_country"])
            for r in await conn.fetch(
                "SELECT person_id, destination_country FROM completions WHERE status = 'valid'"
            )
        }

        # The sessions for the roster entries: fresh learners, sessions and enrolments, half
        # for the API and half for the reference.
        started = time.perf_counter()
        roster_loader = Loader(random.Random(seed + 1), datetime.now(UTC))
        roster_loader.made = loader.made
        cases = rosters(roster_loader, 2 * (warmup + requests))
        await roster_loader.copy(conn)
        await _settle(conn)
        loaded["rosters_s"] = round(time.perf_counter() - started, 1)
    finally:
        await conn.close()

    reference_s = statistics.median(recompute_ref_runs)
    recompute |= {
        "people": len(people),
        "batch_size": BATCH,
        "reference": {
            "seconds": round(reference_s, 3),
            "runs_s": [round(s, 3) for s in recompute_ref_runs],
            "completions_found": len(reference_pairs),
        },
        "ratio": round(recompute["seconds"] / reference_s, 1),
        "fair_reference": {
            "seconds": round(fair_s, 2),
            "certificates": fair_issued,
            "again_seconds": round(fair_again_s, 2),
            "again_certificates": fair_again_issued,
        },
        "fair_ratio": round(recompute["seconds"] / fair_s, 1),
        "again": {k: again[k] for k in ("seconds", "people_per_s", "issued", "withdrawn")}
        | {"fair_ratio": round(again["seconds"] / fair_again_s, 1)},
        "correctness": {
            "expected_certificates": counts["expected_certificates"],
            "reference_completions": len(reference_pairs),
            "valid_certificates": len(valid),
            "missing": len(reference_pairs - valid),
            "unexpected": len(valid - reference_pairs),
        },
    }

    half = warmup + requests
    roster = await _rosters(env, cases[:half], cases[half:], warmup, requests)
    return {
        "learners": learners,
        "requests": requests,
        "warmup": warmup,
        "class_size": CLASS_SIZE,
        "modules": len(cases[0].modules),
        "today": today.isoformat(),
        "loaded": loaded,
        **roster,
        "recompute": recompute,
    }


# -- the printed table -----------------------------------------------------------------------


def checks(figure: Mapping[str, Any]) -> list[report.Check]:
    """No numeric targets in the issue: the figures must be right, whatever they are."""
    requests = figure["requests"]
    entry, again, recompute = figure["roster_entry"], figure["roster_again"], figure["recompute"]
    right = recompute["correctness"]
    return [
        report.Check(
            "predeparture roster entries that wrote every cell and issued nothing before closing",
            entry["all_written"],
            f"= {requests}",
            entry["all_written"] == requests,
        ),
        report.Check(
            "predeparture rosters sent again that changed nothing",
            again["unchanged"],
            f"= {requests}",
            again["unchanged"] == requests,
        ),
        report.Check(
            f"predeparture recomputation of {recompute['people']:,}: certificates issued "
            "(= the reference query's completions)",
            recompute["issued"],
            f"= {right['reference_completions']:,}",
            recompute["issued"] == right["reference_completions"]
            and right["missing"] == right["unexpected"] == 0
            and recompute["withdrawn"] == 0,
        ),
        report.Check(
            "predeparture fair reference (query and writes): certificates it issues (again: none)",
            recompute["fair_reference"]["certificates"],
            f"= {right['reference_completions']:,}",
            recompute["fair_reference"]["certificates"] == right["reference_completions"]
            and recompute["fair_reference"]["again_certificates"] == 0,
        ),
        report.Check(
            "predeparture reference query: completions found (= as generated)",
            right["reference_completions"],
            f"= {right['expected_certificates']:,}",
            right["reference_completions"] == right["expected_certificates"],
        ),
        report.Check(
            "predeparture recomputation run again: certificates issued or withdrawn",
            recompute["again"]["issued"] + recompute["again"]["withdrawn"],
            "0",
            recompute["again"]["issued"] + recompute["again"]["withdrawn"] == 0,
        ),
    ]


def rows(figure: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, labourx, reference, ratio) rows, as bench/report.py prints the others."""
    loaded, recompute = figure["loaded"], figure["recompute"]
    entry, again = figure["roster_entry"], figure["roster_again"]
    people = f"{figure['class_size']} people x {figure['modules']} modules"
    found = [
        (
            f"Pre-departure orientation: {loaded['learners']:,} learners, "
            f"{loaded['attendance_rows']:,} attendance rows, {loaded['sessions']:,} sessions, "
            f"loaded in {report._n(loaded['cohort_s'] + loaded['rosters_s'], 's')}",
            "",
            "",
            "",
        ),
        (
            f"  roster entry, {people}, all present (reference: one upsert) p50 / p95 / p99",
            report._lat(entry["labourx"], "p50_ms", "p95_ms", "p99_ms"),
            report._lat(entry["reference"], "p50_ms", "p95_ms", "p99_ms"),
            f"{entry['p95_ratio']:.1f}x",
        ),
        (
            "    entries that wrote every cell (certificates come at closing)",
            f"{entry['all_written']} of {figure['requests']}",
            "",
            "",
        ),
        ("    cores used (API and reference in turn)", report._cores(entry["cores_used"]), "", ""),
        (
            "  the same roster again (changes nothing) p50 / p95 / p99",
            report._lat(again["labourx"], "p50_ms", "p95_ms", "p99_ms"),
            report._lat(again["reference"], "p50_ms", "p95_ms", "p99_ms"),
            f"{again['p95_ratio']:.1f}x",
        ),
        (
            f"  completion recomputation, {recompute['people']:,} people in batches of "
            f"{recompute['batch_size']:,} (reference: one query)",
            f"{report._n(recompute['seconds'], 's')} ({recompute['people_per_s']:,} people/s)",
            report._n(recompute["reference"]["seconds"], "s"),
            f"{recompute['ratio']:.1f}x",
        ),
        (
            "    against the same query with the same writes (asyncpg; fair reference)",
            "",
            report._n(recompute["fair_reference"]["seconds"], "s"),
            f"{recompute['fair_ratio']:.1f}x",
        ),
        (
            "    certificates issued / the reference's completions",
            f"{recompute['issued']:,} / {recompute['correctness']['reference_completions']:,}",
            "",
            "",
        ),
        (
            "    batch seconds, median / max",
            " / ".join(report._n(recompute["batch_s"][k]) for k in ("median", "max")),
            "",
            "",
        ),
        ("    cores used", report._cores(recompute["cores_used"]), "", ""),
        (
            "  the same recomputation again (nothing to change)",
            f"{report._n(recompute['again']['seconds'], 's')} "
            f"({recompute['again']['people_per_s']:,} people/s)",
            "",
            f"{recompute['again']['seconds'] / recompute['reference']['seconds']:.1f}x",
        ),
        (
            "    against the fair reference (lock and query; nothing to write)",
            "",
            report._n(recompute["fair_reference"]["again_seconds"], "s"),
            f"{recompute['again']['fair_ratio']:.1f}x",
        ),
    ]
    return found


def render(figure: Mapping[str, Any]) -> str:
    return report.figure_tables(rows(figure), checks(figure))
