"""Pure rules of consent: per purpose, with the statuses of ISO/IEC TS 27560.

A consent record is the latest decision of a person for one purpose (and, for sharing with
partners, one agency or one category of agencies). Every decision is kept as history; what
counts at a moment is the effective status, in which a consent past its expiry date is expired.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.problems import Conflict, FieldError, InvalidFields

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date


class ConsentStatus(enum.StrEnum):
    # The status values of ISO/IEC TS 27560 (as named in the W3C DPV vocabulary that follows it).
    REQUESTED = "requested"
    GIVEN = "given"
    RENEWED = "renewed"  # given again, e.g. before or after an expiry
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"  # never recorded: derived from the expiry date
    INVALIDATED = "invalidated"  # recorded in error or obtained improperly, set by an admin


VALID = frozenset({ConsentStatus.GIVEN, ConsentStatus.RENEWED})


class Purpose(enum.StrEnum):
    REGISTRATION = "registration"
    JOB_MATCHING = "job_matching"
    CONTACT_SMS = "contact_sms"
    CONTACT_EMAIL = "contact_email"
    PARTNER_SHARING = "partner_sharing"


class Method(enum.StrEnum):
    SIGNED = "signed"
    THUMBPRINT = "thumbprint"  # for people who do not write; needs a witness like verbal consent
    VERBAL = "verbal"
    ELECTRONIC = "electronic"  # given by the person through a channel of their own


WITNESSED = frozenset({Method.THUMBPRINT, Method.VERBAL})

# Categories of partner agencies a person may agree to share with as a whole.
PARTNER_CATEGORIES = frozenset({"un_agencies", "government", "ngos", "employers_associations"})

# What a decision may follow. `None` is "nothing recorded yet for this purpose and scope".
_MAY_FOLLOW: dict[ConsentStatus, frozenset[ConsentStatus | None]] = {
    ConsentStatus.REQUESTED: frozenset({None, ConsentStatus.REFUSED, ConsentStatus.EXPIRED}),
    ConsentStatus.GIVEN: frozenset(
        {
            None,
            ConsentStatus.REQUESTED,
            ConsentStatus.REFUSED,
            ConsentStatus.WITHDRAWN,
            ConsentStatus.EXPIRED,
            ConsentStatus.INVALIDATED,
        }
    ),
    ConsentStatus.RENEWED: frozenset(VALID | {ConsentStatus.EXPIRED}),
    ConsentStatus.REFUSED: frozenset(
        {None, ConsentStatus.REQUESTED, ConsentStatus.WITHDRAWN, ConsentStatus.EXPIRED}
    ),
    # Withdrawal at any time, but only of a consent that is in force.
    ConsentStatus.WITHDRAWN: VALID,
    ConsentStatus.INVALIDATED: frozenset(VALID | {ConsentStatus.EXPIRED}),
}


@dataclass(frozen=True)
class Scope:
    """Which partner a sharing consent covers: one agency by code, or a category of them."""

    agency: str | None = None
    category: str | None = None

    def key(self) -> str:
        if self.agency:
            return f"agency:{self.agency}"
        if self.category:
            return f"category:{self.category}"
        return ""


def effective_status(status: ConsentStatus, expires_on: date | None, today: date) -> ConsentStatus:
    if status in VALID and expires_on is not None and expires_on < today:
        return ConsentStatus.EXPIRED
    return status


def check_decision(
    current: ConsentStatus | None,
    new: ConsentStatus,
    *,
    purpose: Purpose,
    scope: Scope,
    method: Method,
    witness: str | None,
    expires_on: date | None,
    today: date,
) -> None:
    """Refuse a decision that cannot be recorded; `current` is the effective status now.

    A decision that cannot follow the current one is a conflict (409); otherwise every bad field
    is named in one answer.
    """
    if new in _MAY_FOLLOW and current not in _MAY_FOLLOW[new]:
        raise Conflict(
            f"consent for {purpose} is {current or 'not recorded'}; it cannot become {new}",
            current_status=str(current) if current else None,
        )
    errors = decision_errors(
        new,
        purpose=purpose,
        scope=scope,
        method=method,
        witness=witness,
        expires_on=expires_on,
        today=today,
    )
    if errors:
        raise InvalidFields(errors)


def decision_errors(
    new: ConsentStatus,
    *,
    purpose: Purpose,
    scope: Scope,
    method: Method,
    witness: str | None,
    expires_on: date | None,
    today: date,
    at: str = "",
    scope_field: str = "scope",
    category_field: str = "scope.category",
) -> list[FieldError]:
    """Every rule a decision breaks, whatever was recorded before, each naming its field as the
    client sent it: `at` prefixes the fields (`consents.2.`); the consent API nests agency and
    category in `scope`, a registration's consents carry them as fields of their own."""
    errors = []
    if new is ConsentStatus.EXPIRED:
        errors.append(
            FieldError(f"{at}status", "expired is derived from expires_on, it is not recorded")
        )
    elif new not in _MAY_FOLLOW:
        errors.append(FieldError(f"{at}status", f"{new} cannot be recorded"))
    if purpose is Purpose.PARTNER_SHARING:
        if bool(scope.agency) == bool(scope.category):
            errors.append(
                FieldError(scope_field, "sharing consent names one agency or one category")
            )
        elif scope.category and scope.category not in PARTNER_CATEGORIES:
            errors.append(
                FieldError(
                    category_field, f"must be one of {', '.join(sorted(PARTNER_CATEGORIES))}"
                )
            )
    elif scope.key():
        errors.append(
            FieldError(scope_field, f"only {Purpose.PARTNER_SHARING} consent has a scope")
        )
    if method in WITNESSED and new in VALID and not (witness and witness.strip()):
        errors.append(FieldError(f"{at}witness_name", f"{method} consent needs a witness"))
    if expires_on is not None and expires_on < today:
        errors.append(FieldError(f"{at}expires_on", "is in the past"))
    return errors


@dataclass(frozen=True)
class Decision:
    purpose: Purpose
    scope: Scope
    status: ConsentStatus
    expires_on: date | None = None


def may_share_with(
    decisions: Iterable[Decision], agency: str, categories: Iterable[str], today: date
) -> bool:
    """Whether a person's data may go to `agency` (which belongs to `categories`).

    A decision about the agency itself wins over decisions about its categories: a person may
    agree to share with UN agencies but refuse one of them. Among categories, one refusal or
    withdrawal is enough to refuse.
    """
    by_scope = {
        d.scope.key(): effective_status(d.status, d.expires_on, today)
        for d in decisions
        if d.purpose is Purpose.PARTNER_SHARING
    }
    own = by_scope.get(f"agency:{agency}")
    if own is not None:
        return own in VALID
    statuses = [by_scope[k] for c in categories if (k := f"category:{c}") in by_scope]
    return bool(statuses) and all(s in VALID for s in statuses)
