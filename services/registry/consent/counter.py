"""Consents answered at the counter, written with the registration itself.

The person is asked when registered, before anything is sent to them: a welcome SMS must find
their answer about SMS already recorded. The rules are the consent API's; the rows, and a
ConsentChanged for each after the PersonRegistered, are written in the registration's
transaction.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert

from services.registry.consent.domain import ConsentStatus, Scope, decision_errors
from services.registry.consent.models import Consent
from shared.consumer.direct import Direct
from shared.events.registry import ConsentChanged, RegistrationConsent
from shared.problems import FieldError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.consent.schemas import CounterConsentIn
    from shared.auth import Principal

# Run on the transaction's connection (shared.consumer.direct), one row a statement: a
# registration answers a purpose or two, and the session's path costs more than the insert.
_INSERT = Direct(insert(cast("Table", Consent.__table__)))


def errors(consents: Sequence[CounterConsentIn], today: date) -> list[FieldError]:
    """Every rule the answers break, each named `consents.<n>.<field>`; one answer per purpose
    (and partner) only."""
    found: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for n, consent in enumerate(consents):
        scope = Scope(agency=consent.agency, category=consent.category)
        found += decision_errors(
            ConsentStatus(consent.status),
            purpose=consent.purpose,
            scope=scope,
            method=consent.method,
            witness=consent.witness_name,
            expires_on=consent.expires_on,
            today=today,
            at=f"consents.{n}.",
            scope_field=f"consents.{n}.agency",
            category_field=f"consents.{n}.category",
        )
        key = (consent.purpose.value, scope.key())
        if key in seen:
            found.append(FieldError(f"consents.{n}", "answers a purpose already answered"))
        seen.add(key)
    return found


def rows(
    person_id: uuid.UUID,
    consents: Sequence[CounterConsentIn],
    principal: Principal,
    at: datetime,
) -> list[dict[str, Any]]:
    """The consent rows of the answers, as the consent API would have written them."""
    return [
        {
            "id": uuid.uuid4(),
            "person_id": person_id,
            "purpose": c.purpose.value,
            "scope_key": Scope(agency=c.agency, category=c.category).key(),
            "agency": c.agency,
            "category": c.category,
            "status": c.status,
            "method": c.method.value,
            "witness_name": c.witness_name,
            "expires_on": c.expires_on,
            "note": None,
            "recorded_by": principal.subject,
            "office_code": principal.office,
            "recorded_at": at,
        }
        for c in consents
    ]


async def write(session: AsyncSession, written: list[dict[str, Any]]) -> None:
    for row in written:
        await _INSERT.execute(session, row)


def registered(written: list[dict[str, Any]]) -> list[RegistrationConsent]:
    """The answers as PersonRegistered carries them."""
    return [
        RegistrationConsent(
            purpose=r["purpose"],
            status=r["status"],
            agency=r["agency"],
            category=r["category"],
            expires_on=r["expires_on"],
        )
        for r in written
    ]


def changes(written: list[dict[str, Any]]) -> list[ConsentChanged]:
    """One ConsentChanged per answer, as the consent API announces a decision."""
    return [
        ConsentChanged(
            person_id=r["person_id"],
            consent_id=r["id"],
            purpose=r["purpose"],
            agency=r["agency"],
            category=r["category"],
            status=r["status"],
            expires_on=r["expires_on"],
            method=r["method"],
            recorded_by=r["recorded_by"],
            office_code=r["office_code"],
            recorded_at=r["recorded_at"],
        )
        for r in written
    ]
