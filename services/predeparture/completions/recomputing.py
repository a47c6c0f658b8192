"""Completions recomputed from attendance for many people in one pass: certificates issued and
withdrawn, each with its event.

The rule (completions/domain.py) is evaluated in SQL over the whole batch (`_PLAN`) for every
person whose attendance has the usual shape: the sessions of one curriculum version, each
module attended present at most once, the destination-specific modules attended all naming the
same one destination, and one office on the day the last module was attended. For them the
completion is the last day of the mandatory modules when every one that applies is there and
the first and last lie within the window (with each module attended once this is exactly what
the rule's sweep finds), and the certificate's office is that day's. The statement answers only
the people for whom something changes: a certificate to issue (issued straight from its row), or
anything else (a certificate held that no longer matches, attendance of another shape), which
the rule in Python decides, reading those few people's attendance. Someone whose valid
certificate matches what the rule finds costs one row of an aggregate, not a Python object."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from sqlalchemy import select, text

from services.predeparture.completions import domain
from services.predeparture.completions.attendance_rows import attendance_rows
from services.predeparture.completions.certificates import code_key
from services.predeparture.completions.domain import CurriculumRule, Met, Unmet
from services.predeparture.completions.models import CERTIFICATE_SEQUENCE, Completion
from services.predeparture.completions.schemas import CertificateChange, Recomputed
from services.predeparture.curricula import service as curricula
from shared.db import driver_connection
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.outbox.writer import StagedEvent, add_staged, stage_events

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.completions.attendance_rows import AttendanceRow
    from shared.settings import Settings

# People per statement: the batch's arrays are single parameters, so this bounds the memory of
# one pass (and keeps each plan's estimated cost under PostgreSQL's default JIT threshold).
_CHUNK = 2000
# Only people the read model holds as themselves get certificates issued or withdrawn: not one
# it has not heard of (or erased), nor a duplicate merged into another record.
_ACTIVE = "active"

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_U = TypeVar("_U")

# The learners, locked (see `_lock_learners`), with their own destination.
_LOCK = """
    SELECT person_id, destination_country FROM learners
    WHERE person_id = ANY(CAST($1 AS uuid[])) AND record_status = 'active'
    ORDER BY person_id
    FOR NO KEY UPDATE
"""

# `_LOCK`, `_PLAN` and `_INSERT_COMPLETIONS` run on the transaction's asyncpg connection
# (shared.db.driver_connection): 100,000 people's rows through the ORM session's result objects
# cost more Python than the rule itself.
#
# The rule over a batch (see the module's docstring), given the learners `_LOCK` found active
# and locked (their status cannot change before the transaction ends, so they are not looked up
# again). One row per person for whom something changes: `exact` when the rule in Python must
# decide, else the certificate to issue.
# Each person's attendance and valid certificates are read through their indexes (the lateral
# subqueries, kept apart by OFFSET 0, are not turned into a hash join over whole tables), then
# summed per day (offices, modules as bits of the curriculum's module list), then per person.
# What the sums ask of a module (its bit as general or specific, its destination, whether it is
# shared) is worked out once per module in `modules`, not per attendance row.
_PLAN = """
    WITH people AS MATERIALIZED (
        SELECT person_id FROM unnest(CAST($1 AS uuid[])) AS i(person_id)
    ),
    modules AS MATERIALIZED (
        SELECT curriculum_id, code, mandatory, destinations, bit,
               CASE WHEN mandatory AND destinations = '{}' THEN bit END AS general,
               CASE WHEN mandatory AND destinations <> '{}' THEN bit END AS specific,
               CASE WHEN mandatory AND destinations <> '{}' THEN destinations[1] END AS place,
               CASE WHEN mandatory THEN cardinality(destinations) > 1 END AS shared
        FROM (
            SELECT *, CASE WHEN n <= 64 THEN CAST(1 AS bigint) << CAST(n - 1 AS integer) END AS bit
            FROM (SELECT *, row_number() OVER (PARTITION BY curriculum_id ORDER BY position, code)
                              AS n
                  FROM curriculum_modules) m
        ) m
    ),
    facts AS (
        SELECT p.person_id, s.curriculum_id, a.module_code, m.mandatory, m.bit, m.general,
               m.specific, m.place, m.shared,
               CAST(s.starts_at AT TIME ZONE INTERVAL '+07:00' AS date) AS day, s.office_code,
               CAST(NULL AS varchar) AS certified, CAST(NULL AS date) AS certified_on
        FROM people p
        CROSS JOIN LATERAL (
            SELECT a.session_id, a.module_code FROM attendance a
            WHERE a.person_id = p.person_id AND a.status = 'present' OFFSET 0
        ) a
        JOIN orientation_sessions s ON s.id = a.session_id AND s.status = 'closed'
        LEFT JOIN modules m ON m.curriculum_id = s.curriculum_id AND m.code = a.module_code
        UNION ALL
        SELECT p.person_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               o.destination_country, o.completed_on
        FROM people p
        CROSS JOIN LATERAL (
            SELECT o.destination_country, o.completed_on FROM completions o
            WHERE o.person_id = p.person_id AND o.status = 'valid' OFFSET 0
        ) o
    ),
    daily AS (
        SELECT person_id, day, curriculum_id,
               count(module_code) AS records,
               count(module_code) FILTER (WHERE bit IS NULL) AS unknown,
               bit_or(bit) AS bits,
               bit_or(general) AS general,
               bit_or(specific) AS specific,
               min(place) AS place,
               max(place) AS last_place,
               bool_or(shared) AS shared,
               count(*) FILTER (WHERE mandatory) AS mandatory,
               min(office_code) FILTER (WHERE mandatory) AS office,
               max(office_code) FILTER (WHERE mandatory) AS last_office,
               count(certified) AS certificates,
               min(certified) AS certified,
               min(certified_on) AS certified_on
        FROM facts
        GROUP BY person_id, day, curriculum_id
    ),
    summed AS (
        SELECT person_id,
               min(CAST(curriculum_id AS text)) AS curriculum,
               min(CAST(curriculum_id AS text)) IS DISTINCT FROM max(CAST(curriculum_id AS text))
                 OR sum(records) <> bit_count(CAST(coalesce(bit_or(bits), 0) AS bit(64)))
                 OR sum(unknown) > 0
                 OR min(place) IS DISTINCT FROM max(last_place)
                 OR coalesce(bool_or(shared), false)
                 OR (max(ARRAY[to_char(day, 'YYYYMMDD'), office]) FILTER (WHERE mandatory > 0))[2]
                    IS DISTINCT FROM
                    (max(ARRAY[to_char(day, 'YYYYMMDD'), last_office])
                       FILTER (WHERE mandatory > 0))[2]
                 OR sum(certificates) > 1
                 AS irregular,
               bit_or(general) AS general,
               bit_or(specific) AS specific,
               min(place) AS destination,
               min(day) FILTER (WHERE mandatory > 0) AS first,
               max(ARRAY[to_char(day, 'YYYYMMDD'), office]) FILTER (WHERE mandatory > 0) AS last,
               sum(certificates) AS certificates,
               min(certified) AS certified,
               min(certified_on) AS certified_on
        FROM daily
        GROUP BY person_id
    ),
    rules AS MATERIALIZED (
        SELECT CAST(c.id AS text) AS curriculum, c.id, c.completion_window_months AS window_months,
               c.validity_months, d.destination,
               coalesce(bit_or(m.bit) FILTER (WHERE m.mandatory AND m.destinations = '{}'), 0)
                 AS general,
               bit_or(m.bit) FILTER (WHERE m.mandatory AND d.destination = ANY(m.destinations))
                 AS specific,
               bool_or(m.bit IS NULL) AS wide
        FROM curricula c
        JOIN modules m ON m.curriculum_id = c.id
        CROSS JOIN (SELECT DISTINCT unnest(destinations) AS destination
                    FROM curriculum_modules) d
        GROUP BY c.id, d.destination
    ),
    judged AS (
        SELECT f.person_id, f.irregular OR coalesce(r.wide, false) AS irregular,
               r.destination, r.id AS curriculum_id, r.validity_months,
               r.id IS NOT NULL
                 AND coalesce(f.general, 0) = r.general AND f.specific = r.specific
                 AND to_date(f.last[1], 'YYYYMMDD')
                     <= f.first + make_interval(months => r.window_months) AS met,
               to_date(f.last[1], 'YYYYMMDD') AS completed_on, f.last[2] AS office_code,
               f.certificates, f.certified, f.certified_on
        FROM summed f
        LEFT JOIN rules r ON r.curriculum = f.curriculum AND r.destination = f.destination
    )
    SELECT person_id, destination, curriculum_id, completed_on,
           CAST(completed_on + make_interval(months => validity_months) AS date) AS valid_until,
           office_code, irregular OR certificates > 0 AS exact
    FROM judged
    WHERE irregular
       OR (met AND (certificates = 0 OR certified <> destination OR certified_on <> completed_on))
       OR (NOT met AND certificates > 0)
    ORDER BY person_id
"""

# The time of a chunk's changes (see `_read`) and its certificates' numbers, in one round trip.
_NOW_AND_NUMBERS = """
    SELECT clock_timestamp(),
           ARRAY(SELECT nextval(CAST($2 AS regclass)) FROM generate_series(1, $1))
"""

_COMPLETION_COLUMNS = (
    "id",
    "person_id",
    "destination_country",
    "curriculum_id",
    "completed_on",
    "valid_until",
    "certificate_number",
    "verification_hash",
    "office_code",
)
_INSERT_COMPLETIONS = """
    INSERT INTO completions (id, person_id, destination_country, curriculum_id, completed_on,
                             valid_until, certificate_number, verification_hash, office_code,
                             status, issued_at)
    SELECT r.*, 'valid', $10
    FROM unnest(
        CAST($1 AS uuid[]), CAST($2 AS uuid[]), CAST($3 AS varchar[]), CAST($4 AS uuid[]),
        CAST($5 AS date[]), CAST($6 AS date[]), CAST($7 AS varchar[]), CAST($8 AS varchar[]),
        CAST($9 AS varchar[])
    ) AS r
    ON CONFLICT (person_id, destination_country) WHERE status = 'valid' DO NOTHING
    RETURNING id
"""

_WITHDRAW = text(
    """
    UPDATE completions AS c
    SET status = 'withdrawn', withdrawn_reason = w.reason, withdrawn_at = :at
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS w(id, reason)
    WHERE c.id = w.id AND c.status = 'valid'
    RETURNING c.id
    """
)


async def _lock_learners(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """Lock the learners and give each active one's own destination (people merged away or
    unknown are left out).

    The lock makes passes over the same person take turns: one that waited then reads the
    attendance the other committed, so two sessions entered at once cannot each miss the
    other's half of a completion. Row locks (in id order), not advisory locks, so that a pass
    over 100,000 people does not fill the lock table.

    Why no cheaper lock will do (it costs a WAL record per learner, 0.2 to 0.7 s of 100,000):
    a shared lock (FOR SHARE, FOR KEY SHARE) lets two passes hold it at once, so neither waits
    for the other's attendance. Locking in `_PLAN` itself is too late: under READ COMMITTED a
    statement that waits for a row lock keeps the snapshot it began with, so it would still
    miss the attendance committed by the pass it waited for; the lock must be a statement of
    its own, before. Nor can only the people who change be locked: a pass that writes no
    attendance (a full recomputation) may read a person's attendance just before a correction
    commits that makes it incomplete; the correction, finding no certificate, writes none, and
    the pass, not waiting for it, would then issue one the attendance no longer supports.
    """
    found = await (await driver_connection(session)).fetch(_LOCK, ids)
    return {person_id: destination for person_id, destination in found}


async def _valid(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Completion]]:
    found = await session.execute(
        select(Completion).where(Completion.person_id.in_(ids), Completion.status == "valid")
    )
    valid: dict[uuid.UUID, dict[str, Completion]] = defaultdict(dict)
    for completion in found.scalars():
        valid[completion.person_id][completion.destination_country] = completion
    return valid


class _Issue(NamedTuple):
    person_id: uuid.UUID
    destination: str
    curriculum_id: uuid.UUID
    completed_on: date
    valid_until: date
    office_code: str | None


def _decide(
    person_id: uuid.UUID,
    rows: Sequence[AttendanceRow],
    home: str | None,
    valid: dict[str, Completion],
    rules: dict[uuid.UUID, CurriculumRule],
    *,
    today: date,
    reason: str | None,
) -> tuple[list[_Issue], list[tuple[Completion, str]]]:
    """What changes for one person: certificates to issue and certificates to withdraw."""
    records = [r.record for r in rows]
    attended = [rules[c] for c in {r.curriculum_id for r in rows}]
    destinations = domain.destinations_to_check(home, attended, records) | set(valid)
    issue: list[_Issue] = []
    withdraw: list[tuple[Completion, str]] = []
    for destination in sorted(destinations):
        chosen = domain.best(attended, destination, records, today=today)
        existing = valid.get(destination)
        if chosen is not None and isinstance(chosen[1], Met):
            curriculum, met = chosen[0], chosen[1]
            if existing is not None and existing.completed_on == met.completed_on:
                continue
            if existing is not None:
                withdraw.append(
                    (existing, _why(reason, f"completed on {met.completed_on} instead"))
                )
            issue.append(
                _Issue(
                    person_id,
                    destination,
                    curriculum.id,
                    met.completed_on,
                    domain.valid_until(met.completed_on, curriculum.validity_months),
                    met.office_code,
                )
            )
        elif existing is not None:
            missing = (
                chosen[1].missing if chosen is not None and isinstance(chosen[1], Unmet) else ()
            )
            detail = (
                f"no longer attended: {', '.join(missing)}" if missing else "no attendance left"
            )
            withdraw.append((existing, _why(reason, detail)))
    return issue, withdraw


def _why(reason: str | None, detail: str) -> str:
    return (
        f"attendance corrected ({reason}): {detail}" if reason else f"attendance changed: {detail}"
    )


async def recompute(
    session: AsyncSession,
    person_ids: Iterable[uuid.UUID],
    *,
    settings: Settings,
    today: date,
    by: str,
    reason: str | None = None,
) -> Recomputed:
    """Bring the completions of `person_ids` in line with their attendance, in one pass: a
    certificate (and OrientationCompleted) where the rule became met, a withdrawal (and
    OrientationCompletionWithdrawn) where it no longer is. Running it again changes nothing.

    `reason` is the staff's reason for a correction, kept with any withdrawal it causes; the
    `settings` give the key new certificates' verification codes are derived with.

    The people go `_CHUNK` at a time, and the Python work of one chunk overlaps the database's
    work on the transaction's connection (see `_overlapped`): a chunk's certificates (ids,
    numbers, verification hashes) are built while the next chunk is locked and read, and its
    events while its certificates are inserted. Statements still run one after the other on the
    one connection, in the one transaction; a chunk's writes follow the next chunk's reads,
    which concern other people."""
    ids = sorted(set(person_ids), key=lambda person_id: person_id.int)
    outcome = Recomputed()
    key = code_key(settings)
    chunks = [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]
    found = await _read(session, chunks[0], today=today, reason=reason) if chunks else None
    for following in [*chunks[1:], None]:
        reading = _read(session, following, today=today, reason=reason) if following else _nothing()
        if found is None:
            found = await reading
            continue
        certificates, read = await _overlapped(partial(_certificates, found, key), reading)
        part = await _write(session, found, certificates)
        outcome.issued += part.issued
        outcome.withdrawn += part.withdrawn
        found = read
    if outcome.issued or outcome.withdrawn:
        log.info(
            "completions recomputed",
            extra={"issued": len(outcome.issued), "withdrawn": len(outcome.withdrawn), "by": by},
        )
    return outcome


async def _nothing() -> None:
    return None


async def _overlapped(work: Callable[[], _T], statements: Awaitable[_U]) -> tuple[_T, _U]:
    """`work` (Python only: no I/O, no session) run in a thread while `statements` run on the
    transaction's connection: the database and Python each take a core, where one waited for
    the other. The statements' failure is raised once the work has stopped."""
    done = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        result = await statements
    except BaseException:
        await asyncio.wait([done])
        if not done.cancelled():
            done.exception()  # retrieved: the statements' failure is the one to raise
        raise
    return await done, result


@dataclass(frozen=True, slots=True)
class _Found:
    """What a chunk's reading found, its learners locked: the certificates to issue (numbered
    in the order of the people, then their destinations) with their numbers, the certificates to
    withdraw, and the time of the changes."""

    issues: list[_Issue]
    numbers: list[int]
    withdrawals: list[tuple[Completion, str]]
    now: datetime


async def _read(
    session: AsyncSession,
    ids: list[uuid.UUID],
    *,
    today: date,
    reason: str | None,
) -> _Found | None:
    """Lock a chunk's learners and find what changes for them (None: nothing)."""
    homes = await _lock_learners(session, ids)
    if not homes:
        return None
    issues: list[_Issue] = []
    exact: list[uuid.UUID] = []
    for (
        person_id,
        destination,
        curriculum_id,
        completed_on,
        until,
        office,
        rule,
    ) in await (await driver_connection(session)).fetch(_PLAN, list(homes)):
        if rule:
            exact.append(person_id)
        else:
            issues.append(
                _Issue(person_id, destination, curriculum_id, completed_on, until, office)
            )
    withdrawals: list[tuple[Completion, str]] = []
    if exact:
        more, withdrawals = await _decide_exactly(session, exact, homes, today=today, reason=reason)
        if more:
            # Certificates numbered in the order of the people, then their destinations.
            issues = sorted(issues + more, key=lambda i: (i.person_id.int, i.destination))
    if not issues and not withdrawals:
        return None
    # Any time after the learners' locks orders this pass's changes after those of a pass it
    # waited for, and before those of one waiting for it (as `clock_now`).
    now, numbers = await (await driver_connection(session)).fetchrow(
        _NOW_AND_NUMBERS, len(issues), CERTIFICATE_SEQUENCE
    )
    return _Found(issues, numbers, withdrawals, now)


@dataclass(frozen=True, slots=True)
class _Certificates:
    """A chunk's new certificates, the columns of `_INSERT_COMPLETIONS` (one list each)."""

    columns: dict[str, list[Any]]


def _certificates(found: _Found, key: bytes) -> _Certificates:
    """The new certificates' rows: each numbered, given its random id and the hash of its
    verification code (Python only: see `_overlapped`)."""
    issues = found.issues
    ids = [uuid.uuid4() for _ in issues]
    return _Certificates(
        {
            "id": ids,
            "person_id": [i.person_id for i in issues],
            "destination_country": [i.destination for i in issues],
            "curriculum_id": [i.curriculum_id for i in issues],
            "completed_on": [i.completed_on for i in issues],
            "valid_until": [i.valid_until for i in issues],
            "certificate_number": [
                domain.certificate_number(i.completed_on.year, number)
                for i, number in zip(issues, found.numbers, strict=True)
            ],
            "verification_hash": [
                domain.verification_hash(domain.verification_code(key, completion_id))
                for completion_id in ids
            ],
            "office_code": [i.office_code for i in issues],
        }
    )


@dataclass(frozen=True, slots=True)
class _Announced:
    """A chunk's events staged (withdrawals', then certificates') and the certificates issued,
    each with its completion's id, for keeping only what the statements wrote."""

    withdrawn: list[tuple[uuid.UUID, StagedEvent]]
    issued: list[tuple[uuid.UUID, StagedEvent, CertificateChange]]


def _announce(found: _Found, certificates: _Certificates) -> _Announced:
    """The events of every withdrawal and certificate the chunk may write (Python only: see
    `_overlapped`)."""
    now = found.now
    columns = certificates.columns
    withdrawn = [
        OrientationCompletionWithdrawn(
            person_id=completion.person_id,
            certificate_number=completion.certificate_number,
            destination_country=completion.destination_country,
            reason=why,
            recorded_at=now,
        )
        for completion, why in found.withdrawals
    ]
    completed = [
        OrientationCompleted(
            person_id=person_id,
            certificate_number=number,
            destination_country=destination,
            completed_on=completed_on,
            valid_until=until,
            office_code=office,
            recorded_at=now,
        )
        for person_id, number, destination, completed_on, until, office in zip(
            columns["person_id"],
            columns["certificate_number"],
            columns["destination_country"],
            columns["completed_on"],
            columns["valid_until"],
            columns["office_code"],
            strict=True,
        )
    ]
    staged = stage_events([*withdrawn, *completed])
    return _Announced(
        withdrawn=[
            (completion.id, event)
            for (completion, _), event in zip(
                found.withdrawals, staged[: len(withdrawn)], strict=True
            )
        ],
        issued=[
            (
                completion_id,
                event,
                CertificateChange(
                    person_id=completed_event.person_id,
                    destination_country=completed_event.destination_country,
                    certificate_number=completed_event.certificate_number,
                    completed_on=completed_event.completed_on,
                ),
            )
            for completion_id, event, completed_event in zip(
                columns["id"], staged[len(withdrawn) :], completed, strict=True
            )
        ],
    )


async def _write(session: AsyncSession, found: _Found, certificates: _Certificates) -> Recomputed:
    """A chunk's withdrawals and certificates written, with their events (built meanwhile)."""
    announced, (withdrawn, issued) = await _overlapped(
        partial(_announce, found, certificates), _change(session, found, certificates)
    )
    # Withdrawals first: a person's events are keyed by person, so matching sees the old
    # certificate go before the new one arrives.
    await add_staged(
        session,
        [event for completion_id, event in announced.withdrawn if completion_id in withdrawn]
        + [event for completion_id, event, _ in announced.issued if completion_id in issued],
    )
    return Recomputed(
        issued=[change for completion_id, _, change in announced.issued if completion_id in issued],
        withdrawn=[
            CertificateChange(
                person_id=c.person_id,
                destination_country=c.destination_country,
                certificate_number=c.certificate_number,
                completed_on=c.completed_on,
            )
            for c, _ in found.withdrawals
            if c.id in withdrawn
        ],
    )


async def _change(
    session: AsyncSession, found: _Found, certificates: _Certificates
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The withdrawals, then the new certificates, each in one statement; the ids of the
    completions withdrawn and of those inserted."""
    return (
        await _withdraw(session, found.withdrawals, found.now),
        await _issue(session, certificates, found.now),
    )


async def _decide_exactly(
    session: AsyncSession,
    people: list[uuid.UUID],
    homes: dict[uuid.UUID, str | None],
    *,
    today: date,
    reason: str | None,
) -> tuple[list[_Issue], list[tuple[Completion, str]]]:
    """The rule in Python (`_decide`) for the people `_PLAN` leaves to it, from their
    attendance and valid certificates read here."""
    attendance = await attendance_rows(session, people, counted_only=True)
    valid = await _valid(session, people)
    rules = await curricula.rules(
        session, {r.curriculum_id for rows in attendance.values() for r in rows}
    )
    issues: list[_Issue] = []
    withdrawals: list[tuple[Completion, str]] = []
    for person_id in people:
        if person_id not in homes:
            continue
        issue, withdraw = _decide(
            person_id,
            attendance.get(person_id, []),
            homes[person_id],
            valid.get(person_id, {}),
            rules,
            today=today,
            reason=reason,
        )
        issues += issue
        withdrawals += withdraw
    return issues, withdrawals


async def _withdraw(
    session: AsyncSession, withdrawals: list[tuple[Completion, str]], now: datetime
) -> set[uuid.UUID]:
    """Withdraw in one statement; only rows still valid (a concurrent pass may have won)."""
    if not withdrawals:
        return set()
    done = await session.execute(
        _WITHDRAW,
        {
            "ids": [c.id for c, _ in withdrawals],
            "reasons": [why for _, why in withdrawals],
            "at": now,
        },
    )
    return set(done.scalars())


async def _issue(
    session: AsyncSession, certificates: _Certificates, now: datetime
) -> set[uuid.UUID]:
    """Insert the new completions in one statement. A concurrent pass that issued the same
    person's certificate first wins (the one-valid-per-destination index), and ours is skipped."""
    columns = certificates.columns
    if not columns["id"]:
        return set()
    inserted = await (await driver_connection(session)).fetch(
        _INSERT_COMPLETIONS, *(columns[column] for column in _COMPLETION_COLUMNS), now
    )
    return {r[0] for r in inserted}
