"""Whose data a partner may see at person level: the person's partner-sharing decisions, by the
partner's code or its category, in force or lapsed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

# The same categories registry records sharing consent for (registry's consent/domain.py).
PARTNER_CATEGORIES = frozenset({"un_agencies", "government", "ngos", "employers_associations"})


IN_FORCE = frozenset({"given", "renewed"})


@dataclass(frozen=True)
class SharingDecision:
    """A person's latest partner-sharing decision for one agency or one category."""

    status: str
    expires_on: date | None = None
    # Removals were sent for its lapse (the sweep after `expires_on`); until then partners may
    # still hold personal data shared under it.
    swept: bool = False

    def in_force(self, today: date) -> bool:
        return self.status in IN_FORCE and (self.expires_on is None or self.expires_on >= today)

    def lapsed_unswept(self, today: date) -> bool:
        """Given or renewed, past its expiry date, and no removal sent for that yet."""
        return (
            self.status in IN_FORCE
            and self.expires_on is not None
            and self.expires_on < today
            and not self.swept
        )


def held(decisions: Mapping[str, SharingDecision], today: date) -> dict[str, SharingDecision]:
    """The decisions as partners may still hold personal data under them: one that lapsed with
    no removal sent yet counts as in force, so that the removal is sent once, by whichever comes
    first (the sweep, a withdrawal, a merge or an erasure)."""
    return {
        key: SharingDecision(d.status) if d.lapsed_unswept(today) else d
        for key, d in decisions.items()
    }


def scope_key(agency: str | None, category: str | None) -> str | None:
    """The key a sharing decision is kept under (as registry keys it), None if it names neither."""
    if agency:
        return f"agency:{agency}"
    if category:
        return f"category:{category}"
    return None


def may_share(
    decisions: Mapping[str, SharingDecision], code: str, category: str, today: date
) -> bool:
    """Whether the person's data may reach the partner at person level (pseudonymised or
    personal). Registry's rule: a decision about the partner itself wins over one about its
    category."""
    own = decisions.get(f"agency:{code}")
    if own is not None:
        return own.in_force(today)
    by_category = decisions.get(f"category:{category}")
    return by_category is not None and by_category.in_force(today)
