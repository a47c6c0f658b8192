"""The completion rule evaluated in SQL (completions/recomputing._PLAN) decides exactly what the
rule in Python (completions/domain.py) decides: on random attendance of many shapes (make-ups,
modules attended twice, two versions of a curriculum and another curriculum, a module shared by
two destinations, sessions on the same day at two offices, cancelled and open sessions, people
merged away, certificates held already), a recomputation leaves the same certificates and
stages the same events as one in which every person is left to the rule in Python."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from services.predeparture.completions import recomputing
from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID, default_curriculum
from shared import clock
from shared.clock import LAO_TIME
from shared.db import create_engine, session_factory

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

# Every person of the batch left to the rule in Python.
_ALL_IN_PYTHON = """
    SELECT person_id, NULL, NULL, NULL, NULL, NULL, true FROM learners
    WHERE person_id = ANY(CAST($1 AS uuid[])) AND record_status = 'active'
    ORDER BY person_id
"""
OFFICES = ("MRC-VT", "MRC-SV", "MRC-LP", "MRC-CH")
DESTINATIONS = ("TH", "KR", "JP", "MY")
Module = tuple[str, bool, list[str]]


async def _curricula(session: AsyncSession, rng: random.Random) -> dict[uuid.UUID, list[Module]]:
    """The default curriculum, a second version of it (a general module swapped, a shorter
    window, an optional Korea module) and a curriculum of another code (a module shared by
    Thailand and Malaysia, an optional one)."""
    default = default_curriculum()
    modules: dict[uuid.UUID, list[Module]] = {
        DEFAULT_CURRICULUM_ID: [
            (m["code"], m["mandatory"], list(m["destinations"])) for m in default["modules"]
        ]
    }
    code = (
        await session.execute(
            text("SELECT code FROM curricula WHERE id = :id"), {"id": DEFAULT_CURRICULUM_ID}
        )
    ).scalar_one()
    version = (
        await session.execute(
            text("SELECT max(version) FROM curricula WHERE code = :code"), {"code": code}
        )
    ).scalar_one()
    first = modules[DEFAULT_CURRICULUM_ID]
    other_code = f"EQ-{uuid.uuid4().hex[:8]}"
    for curriculum_id, curriculum_code, number, window, made in (
        (
            uuid.uuid4(),
            code,
            version + 1,
            3,
            [m for m in first if m[0] != first[1][0]]
            + [("EQ-GEN", True, []), ("EQ-OPT-KR", False, ["KR"])],
        ),
        (
            uuid.uuid4(),
            other_code,
            1,
            6,
            [
                ("EQ-A", True, []),
                ("EQ-B", True, []),
                ("EQ-THMY", True, ["TH", "MY"]),
                ("EQ-KR", True, ["KR"]),
                ("EQ-OPT", False, []),
            ],
        ),
    ):
        await session.execute(
            text(
                "INSERT INTO curricula (id, code, version, title_lo, title_en,"
                " completion_window_months, validity_months, status, created_by)"
                " VALUES (:id, :code, :version, 't', 't', :window, :validity, 'retired', 'eq')"
            ),
            {
                "id": curriculum_id,
                "code": curriculum_code,
                "version": number,
                "window": window,
                "validity": rng.choice((1, 12, 24)),
            },
        )
        for position, (module, mandatory, destinations) in enumerate(made):
            await session.execute(
                text(
                    "INSERT INTO curriculum_modules (id, curriculum_id, code, position, title_lo,"
                    " title_en, hours, mandatory, destinations) VALUES"
                    " (:id, :curriculum, :code, :position, 't', 't', 1, :mandatory, :places)"
                ),
                {
                    "id": uuid.uuid4(),
                    "curriculum": curriculum_id,
                    "code": module,
                    "position": position,
                    "mandatory": mandatory,
                    "places": destinations,
                },
            )
        modules[curriculum_id] = made
    return modules


async def _cohort(session: AsyncSession, rng: random.Random, size: int) -> list[uuid.UUID]:
    """`size` learners with sessions, attendance and some certificates already held."""
    modules = await _curricula(session, rng)
    today = clock.today()
    eight = datetime.combine(today, datetime.min.time(), LAO_TIME).replace(hour=8)
    sessions: list[tuple[uuid.UUID, uuid.UUID, list[Module]]] = []
    for _ in range(size // 10):
        curriculum = rng.choices(list(modules), (70, 20, 10))[0]
        specific = [m for m in modules[curriculum] if m[2]]
        kept = {m[0] for m in rng.sample(specific, 1)} if rng.random() < 0.9 else set()
        planned = [m for m in modules[curriculum] if not m[2] or m[0] in kept or not kept]
        starts = eight - timedelta(days=rng.randint(0, 400), hours=rng.choice((0, 0, 0, 3)))
        session_id = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO orientation_sessions (id, office_code, province_code, curriculum_id,"
                " starts_at, ends_at, facilitator, language, venue, capacity, planned_modules,"
                " status, created_by) VALUES (:id, :office, 'LA-VT', :curriculum, :starts,"
                " :ends, 'f', 'lo', 'v', 60, :planned, :status, 'eq')"
            ),
            {
                "id": session_id,
                "office": rng.choice(OFFICES),
                "curriculum": curriculum,
                "starts": starts,
                "ends": starts + timedelta(hours=8),
                "planned": [m[0] for m in planned],
                "status": rng.choices(("closed", "held", "cancelled", "scheduled"), (80, 8, 7, 5))[
                    0
                ],
            },
        )
        sessions.append((session_id, curriculum, planned))
    people = [uuid.uuid4() for _ in range(size)]
    learners: list[dict[str, Any]] = []
    cells: dict[tuple[uuid.UUID, uuid.UUID, str], str] = {}
    for person_id in people:
        learners.append(
            {
                "id": person_id,
                "reference": f"Q{person_id.hex[:11]}",
                "home": rng.choice((*DESTINATIONS, None)),
                "status": "merged" if rng.random() < 0.03 else "active",
            }
        )
        usual = rng.choices(list(modules), (75, 15, 10))[0]
        seen: set[str] = set()
        for attempt in range(rng.choices((0, 1, 2, 3, 4), (5, 70, 18, 5, 2))[0]):
            own = [s for s in sessions if s[1] == usual]
            session_id, _, planned = rng.choice(own if own and rng.random() < 0.85 else sessions)
            making_up = attempt > 0 and rng.random() < 0.7
            for module, _, _ in planned:
                if (making_up and module in seen) or rng.random() > (0.97 if not attempt else 0.6):
                    continue
                status = rng.choices(("present", "absent", "excused"), (88, 6, 6))[0]
                cells[(session_id, person_id, module)] = status
                if status == "present":
                    seen.add(module)
    await session.execute(
        text(
            "INSERT INTO learners (person_id, reference, initials, sex, date_of_birth,"
            " province_code, office_code, destination_country, record_status,"
            " record_version, created_at, updated_at) VALUES (:id, :reference, 'A. B.',"
            " 'female', '1990-01-01', 'LA-VT', 'MRC-VT', :home, :status, 1, now(), now())"
        ),
        learners,
    )
    await session.execute(
        text(
            "INSERT INTO attendance (session_id, person_id, module_code, status, recorded_by,"
            " recorded_at) VALUES (:session, :person, :module, :status, 'eq', now())"
        ),
        [
            {"session": session_id, "person": person_id, "module": module, "status": status}
            for (session_id, person_id, module), status in cells.items()
        ],
    )
    return people


async def _outcome(
    session: AsyncSession, settings: Settings, people: list[uuid.UUID], **kwargs: Any
) -> tuple[Any, ...]:
    """A recomputation of `people` (undone after): what it answered, the certificates it left
    and the events it staged, each person's in order."""
    async with session.begin_nested() as attempt:
        outcome = await recomputing.recompute(
            session, people, settings=settings, today=clock.today(), by="eq", **kwargs
        )
        certificates = (
            await session.execute(
                text(
                    "SELECT person_id, destination_country, curriculum_id, completed_on,"
                    " valid_until, office_code, status, withdrawn_reason FROM completions"
                    " WHERE person_id = ANY(CAST(:ids AS uuid[])) ORDER BY 1, 2, 7, 4, 8"
                ),
                {"ids": people},
            )
        ).all()
        events = (
            await session.execute(
                text(
                    "SELECT key, type, convert_from(value, 'UTF8')::jsonb -> 'data' FROM outbox"
                    " WHERE key = ANY(CAST(:keys AS text[])) ORDER BY key, id"
                ),
                {"keys": [str(p) for p in people]},
            )
        ).all()
        await attempt.rollback()
    issued = sorted(
        (c.person_id, c.destination_country, c.completed_on, c.certificate_number[:9])
        for c in outcome.issued
    )
    withdrawn = sorted((c.person_id, c.destination_country) for c in outcome.withdrawn)
    # Certificate numbers and verification codes differ between two passes by construction.
    staged = [
        (
            key,
            kind,
            {k: v for k, v in data.items() if k not in ("certificate_number", "recorded_at")},
        )
        for key, kind, data in events
    ]
    return issued, withdrawn, [tuple(c) for c in certificates], staged


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_rule_in_sql_decides_as_the_rule_in_python(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    engine = create_engine(migrated, "predeparture")
    try:
        async with session_factory(engine)() as session, session.begin():
            people = await _cohort(session, rng, 1500)
            shown = []
            for recompute_again in (False, True):
                in_sql = await _outcome(session, migrated, people)
                with monkeypatch.context() as patched:
                    patched.setattr(recomputing, "_PLAN", _ALL_IN_PYTHON)
                    in_python = await _outcome(session, migrated, people)
                assert in_sql == in_python
                shown.append((len(in_sql[0]), len(in_sql[1])))
                if not recompute_again:
                    # Certificates held, then attendance changed: withdrawals, new dates.
                    await recomputing.recompute(
                        session, people, settings=migrated, today=clock.today(), by="eq"
                    )
                    await session.execute(
                        text(
                            "UPDATE attendance SET status = (ARRAY['present', 'absent',"
                            " 'excused'])[1 + abs(hashtext(module_code || :seed)) % 3]"
                            " WHERE person_id = ANY(CAST(:ids AS uuid[]))"
                            " AND abs(hashtext(CAST(person_id AS text) || module_code)) % 10 = 0"
                        ),
                        {"ids": people, "seed": str(seed)},
                    )
            # The data exercised both: certificates issued, then issued and withdrawn.
            assert shown[0][0] > 300
            assert shown[1][1] > 10
            await session.rollback()
    finally:
        await engine.dispose()
