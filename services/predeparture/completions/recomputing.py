"""Completions recomputed from attendance for many people in one pass: certificates issued and
withdrawn, each with its event."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from services.predeparture.completions import domain
from services.predeparture.completions.attendance_rows import attendance_rows
from services.predeparture.completions.certificates import code_key
from services.predeparture.completions.domain import CurriculumRule, Met, Unmet
from services.predeparture.completions.models import CERTIFICATE_SEQUENCE, Completion
from services.predeparture.completions.schemas import CertificateChange, Recomputed
from services.predeparture.curricula import service as curricula
from services.predeparture.learners.models import Learner
from shared.db import clock_now
from shared.events.predeparture import OrientationCompleted, OrientationCompletionWithdrawn
from shared.outbox import add_events

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.completions.attendance_rows import AttendanceRow
    from shared.events import Event
    from shared.settings import Settings

# Statement parameters stay well under PostgreSQL's 32,767 per statement.
_CHUNK = 1000
# Only people the read model holds as themselves get certificates issued or withdrawn: not one
# it has not heard of (or erased), nor a duplicate merged into another record.
_ACTIVE = "active"

log = logging.getLogger(__name__)

_NUMBERS = text(
    "SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"
).bindparams(sequence=CERTIFICATE_SEQUENCE)

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
_INSERT_COMPLETIONS = text(
    """
    INSERT INTO completions (id, person_id, destination_country, curriculum_id, completed_on,
                             valid_until, certificate_number, verification_hash, office_code,
                             status, issued_at)
    SELECT r.*, 'valid', :at
    FROM unnest(
        CAST(:id AS uuid[]), CAST(:person_id AS uuid[]), CAST(:destination_country AS varchar[]),
        CAST(:curriculum_id AS uuid[]), CAST(:completed_on AS date[]),
        CAST(:valid_until AS date[]), CAST(:certificate_number AS varchar[]),
        CAST(:verification_hash AS varchar[]), CAST(:office_code AS varchar[])
    ) AS r
    ON CONFLICT (person_id, destination_country) WHERE status = 'valid' DO NOTHING
    RETURNING id
    """
)

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
    """
    found = await session.execute(
        select(Learner.person_id, Learner.destination_country)
        .where(Learner.person_id.in_(ids), Learner.record_status == _ACTIVE)
        .order_by(Learner.person_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
    )
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


@dataclass(frozen=True)
class _Issue:
    person_id: uuid.UUID
    destination: str
    curriculum: CurriculumRule
    met: Met


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
            issue.append(_Issue(person_id, destination, curriculum, met))
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
    """
    ids = sorted(set(person_ids))
    outcome = Recomputed()
    key = code_key(settings)
    for start in range(0, len(ids), _CHUNK):
        part = await _recompute_chunk(
            session, ids[start : start + _CHUNK], key=key, today=today, reason=reason
        )
        outcome.issued += part.issued
        outcome.withdrawn += part.withdrawn
    if outcome.issued or outcome.withdrawn:
        log.info(
            "completions recomputed",
            extra={"issued": len(outcome.issued), "withdrawn": len(outcome.withdrawn), "by": by},
        )
    return outcome


async def _recompute_chunk(
    session: AsyncSession,
    ids: list[uuid.UUID],
    *,
    key: bytes,
    today: date,
    reason: str | None,
) -> Recomputed:
    homes = await _lock_learners(session, ids)
    attendance = await attendance_rows(session, ids, counted_only=True)
    valid = await _valid(session, ids)
    rules = await curricula.rules(
        session, {r.curriculum_id for rows in attendance.values() for r in rows}
    )
    issues: list[_Issue] = []
    withdrawals: list[tuple[Completion, str]] = []
    for person_id in ids:
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
    if not issues and not withdrawals:
        return Recomputed()
    now = await clock_now(session)
    withdrawn = await _withdraw(session, withdrawals, now)
    issued = await _issue(session, issues, now, key)
    # Withdrawals first: a person's events are keyed by person, so matching sees the old
    # certificate go before the new one arrives.
    await add_events(session, _events(withdrawn, issued, now))
    return Recomputed(
        issued=[CertificateChange.model_validate(row) for row in issued],
        withdrawn=[
            CertificateChange(
                person_id=c.person_id,
                destination_country=c.destination_country,
                certificate_number=c.certificate_number,
                completed_on=c.completed_on,
            )
            for c, _ in withdrawn
        ],
    )


def _events(
    withdrawn: list[tuple[Completion, str]], issued: list[dict[str, Any]], now: datetime
) -> Sequence[Event]:
    """The withdrawals' events, then the certificates' (see `_recompute_chunk`)."""
    return [
        OrientationCompletionWithdrawn(
            person_id=completion.person_id,
            certificate_number=completion.certificate_number,
            destination_country=completion.destination_country,
            reason=why,
            recorded_at=now,
        )
        for completion, why in withdrawn
    ] + [
        OrientationCompleted(
            person_id=row["person_id"],
            certificate_number=row["certificate_number"],
            destination_country=row["destination_country"],
            completed_on=row["completed_on"],
            valid_until=row["valid_until"],
            office_code=row["office_code"],
            recorded_at=now,
        )
        for row in issued
    ]


async def _withdraw(
    session: AsyncSession, withdrawals: list[tuple[Completion, str]], now: datetime
) -> list[tuple[Completion, str]]:
    """Withdraw in one statement; only rows still valid (a concurrent pass may have won)."""
    if not withdrawals:
        return []
    done = await session.execute(
        _WITHDRAW,
        {
            "ids": [c.id for c, _ in withdrawals],
            "reasons": [why for _, why in withdrawals],
            "at": now,
        },
    )
    changed = set(done.scalars())
    return [(c, why) for c, why in withdrawals if c.id in changed]


async def _issue(
    session: AsyncSession, issues: list[_Issue], now: datetime, key: bytes
) -> list[dict[str, Any]]:
    """Insert the new completions in one statement. A concurrent pass that issued the same
    person's certificate first wins (the one-valid-per-destination index), and ours is skipped."""
    if not issues:
        return []
    numbers = (await session.execute(_NUMBERS, {"n": len(issues)})).scalars()
    rows: list[dict[str, Any]] = []
    for issue, number in zip(issues, numbers, strict=True):
        completion_id = uuid.uuid4()
        rows.append(
            {
                "id": completion_id,
                "person_id": issue.person_id,
                "destination_country": issue.destination,
                "curriculum_id": issue.curriculum.id,
                "completed_on": issue.met.completed_on,
                "valid_until": domain.valid_until(
                    issue.met.completed_on, issue.curriculum.validity_months
                ),
                "certificate_number": domain.certificate_number(
                    issue.met.completed_on.year, number
                ),
                "verification_hash": domain.verification_hash(
                    domain.verification_code(key, completion_id)
                ),
                "office_code": issue.met.office_code,
            }
        )
    inserted = await session.execute(
        _INSERT_COMPLETIONS,
        {column: [row[column] for row in rows] for column in _COMPLETION_COLUMNS} | {"at": now},
    )
    kept = set(inserted.scalars())
    return [row for row in rows if row["id"] in kept]
