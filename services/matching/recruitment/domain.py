"""Pure rules of overseas recruitment: the name list against a demand letter's quota, and the
ledger of each worker's recruitment costs under the Employer Pays Principle."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from services.matching.vacancies.domain import EMPLOYER_PAYS_RULE, Kind, VacancyStatus
from services.matching.wording import a
from shared.problems import Conflict, FieldError, Problem

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import date


class EntryStatus(enum.StrEnum):
    SELECTED = "selected"  # on the name list, counted against the quota
    WITHDRAWN = "withdrawn"  # taken off by the agency or an officer; kept as history


class PaidBy(enum.StrEnum):
    EMPLOYER = "employer"
    AGENCY = "agency"
    WORKER = "worker"  # against the Employer Pays Principle: flagged, counted against the agency


# A name list is taken only while the demand letter is open for recruitment. A paused one
# (agency suspended, licence expired or revoked) takes no new names until it resumes.
SUBMITTABLE = frozenset({VacancyStatus.PUBLISHED})

QUOTA_RULE = "selected workers never exceed the positions of the demand letter"


class NotOverseas(Conflict):
    """409: name lists and recruitment costs belong to demand letters, not domestic jobs."""

    slug, title = "not-a-demand-letter", "Not an overseas vacancy"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"{a(kind)} vacancy has no name list or recruitment costs; only an overseas demand"
            " letter does",
            field="vacancy_id",
            kind=kind,
        )


class NotRecruiting(Conflict):
    """409: the demand letter or its agency cannot take names now."""

    slug, title = "vacancy-not-recruiting", "The vacancy is not taking names"


class QuotaExceeded(Conflict):
    """409: the submission would select more workers than the demand letter has positions."""

    slug, title = "name-list-quota-exceeded", "Name list over the quota"

    def __init__(self, *, quota: int, selected: int, requested: int) -> None:
        remaining = max(quota - selected, 0)
        super().__init__(
            f"{requested} more selected would exceed the quota of {quota}"
            f" ({selected} selected, {remaining} remaining)",
            rule=QUOTA_RULE,
            quota=quota,
            selected=selected,
            remaining=remaining,
            requested=requested,
        )


class NameListRowsRefused(Problem):
    """422: rows of a submission that cannot be selected, each named; nothing was written."""

    status, slug, title = 422, "name-list-rows-refused", "Name list rows refused"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


class NotSelected(Conflict):
    """409: the person is on the name list, but not selected (already withdrawn)."""

    slug, title = "not-selected", "The person is not selected"


def check_overseas(kind: str) -> None:
    if kind != Kind.OVERSEAS:
        raise NotOverseas(kind)


def check_recruiting(vacancy_status: str, agency_status: str, agency_code: str) -> None:
    """Names are taken for a published demand letter of an agency with an active licence."""
    if vacancy_status not in SUBMITTABLE:
        raise NotRecruiting(
            f"the vacancy is {vacancy_status}; a name list is submitted while it is published",
            current_status=vacancy_status,
            allowed=sorted(SUBMITTABLE),
        )
    if agency_status != "active":
        raise NotRecruiting(
            f"agency {agency_code} is {agency_status}; it recruits with an active licence",
            agency_status=agency_status,
        )


@dataclass(frozen=True)
class Submission:
    """What a name list submission changes: who is added (with their referral) and who was
    already selected."""

    added: list[tuple[uuid.UUID, uuid.UUID]]
    unchanged: list[uuid.UUID]


def plan_submission(
    person_ids: Sequence[uuid.UUID],
    *,
    selected: Collection[uuid.UUID],
    open_referrals: Mapping[uuid.UUID, uuid.UUID],
) -> Submission:
    """Sort the rows into added and unchanged; every bad row is named at once (422).

    A person already selected is left as is, so a repeated submission selects no one twice.
    """
    errors: list[dict[str, str]] = []
    first_row: dict[uuid.UUID, int] = {}
    added: list[tuple[uuid.UUID, uuid.UUID]] = []
    unchanged: list[uuid.UUID] = []
    for row, person_id in enumerate(person_ids):
        field = f"entries.{row}.person_id"
        if person_id in first_row:
            errors.append(
                {
                    "field": field,
                    "message": f"repeats entries.{first_row[person_id]}",
                    "code": "duplicate",
                }
            )
            continue
        first_row[person_id] = row
        if person_id in selected:
            unchanged.append(person_id)
        elif (referral_id := open_referrals.get(person_id)) is not None:
            added.append((person_id, referral_id))
        else:
            errors.append(
                {
                    "field": field,
                    "message": f"{person_id} holds no open referral to this vacancy;"
                    " an officer refers the person first",
                    "code": "no_open_referral",
                }
            )
    if errors:
        raise NameListRowsRefused(errors)
    return Submission(added, unchanged)


def check_quota(quota: int, selected: int, requested: int) -> int:
    """The places left once `requested` more are selected; 409 if the quota would be passed."""
    if selected + requested > quota:
        raise QuotaExceeded(quota=quota, selected=selected, requested=requested)
    return quota - selected - requested


# -- the cost ledger ------------------------------------------------------------------------


def flagged(paid_by: str, amount: Decimal) -> bool:
    """A cost the worker paid breaks the Employer Pays Principle."""
    return paid_by == PaidBy.WORKER and amount > 0


def cost_errors(
    paid_by: str, amount: Decimal, paid_on: date | None, today: date
) -> list[FieldError]:
    """A cost was paid on a day that has come, and what the worker paid is more than nothing.

    Every worker-paid row counts against the agency, so a zero one would count a cost no one bore.
    """
    errors = []
    if paid_on is not None and paid_on > today:
        errors.append(FieldError("paid_on", f"is in the future (today is {today.isoformat()})"))
    if paid_by == PaidBy.WORKER and amount == 0:
        errors.append(
            FieldError(
                "amount",
                "a cost paid by the worker is more than 0; record a cost no one paid as paid by"
                " the employer or the agency",
            )
        )
    return errors


def flag_rule(paid_by: str, amount: Decimal) -> str | None:
    """The rule a cost breaks, if any."""
    return EMPLOYER_PAYS_RULE if flagged(paid_by, amount) else None


@dataclass(frozen=True)
class PayerTotal:
    paid_by: str
    currency: str
    amount: Decimal
    entries: int


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: Decimal
    entries: int


@dataclass(frozen=True)
class LedgerTotals:
    by_payer: list[PayerTotal]
    by_currency: list[CurrencyTotal]
    flagged: int


_PAYER_ORDER = {p.value: n for n, p in enumerate(PaidBy)}


def ledger_totals(lines: Iterable[tuple[str, str, Decimal]]) -> LedgerTotals:
    """Sums of `(paid_by, currency, amount)` lines per payer and currency, and per currency
    (amounts in different currencies are never added together), and how many are flagged."""
    by_payer: dict[tuple[str, str], tuple[Decimal, int]] = {}
    by_currency: dict[str, tuple[Decimal, int]] = {}
    flags = 0
    for paid_by, currency, amount in lines:
        total, count = by_payer.get((paid_by, currency), (Decimal(0), 0))
        by_payer[(paid_by, currency)] = (total + amount, count + 1)
        total, count = by_currency.get(currency, (Decimal(0), 0))
        by_currency[currency] = (total + amount, count + 1)
        flags += flagged(paid_by, amount)
    return LedgerTotals(
        by_payer=[
            PayerTotal(paid_by, currency, amount, count)
            for (paid_by, currency), (amount, count) in sorted(
                by_payer.items(), key=lambda kv: (_PAYER_ORDER.get(kv[0][0], 99), kv[0][1])
            )
        ],
        by_currency=[
            CurrencyTotal(currency, amount, count)
            for currency, (amount, count) in sorted(by_currency.items())
        ],
        flagged=flags,
    )
