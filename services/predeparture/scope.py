"""Who may do what in predeparture: MRC staff manage what belongs to their office (sessions,
enrolments, attendance, outreach); every other office role, analysts and admins read.

Every route that changes something of an office calls `require_manager(principal, office_code)`,
so the rule lives in one place and is checked on the object, not only on the route.
"""

from __future__ import annotations

from typing import Annotated

from shared.auth import Principal, Role, require_roles
from shared.problems import Forbidden

# Readers: office staff of either kind, analysts, admins (admins always pass require_roles).
Reader = Annotated[Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF, Role.ANALYST)]
# Those who may manage something of an office (checked against the office by require_manager).
Manager = Annotated[Principal, require_roles(Role.MRC_STAFF)]


def can_manage(principal: Principal, office_code: str) -> bool:
    """MRC staff manage their own office's work; admins any office's."""
    if Role.ADMIN in principal.roles:
        return True
    return Role.MRC_STAFF in principal.roles and principal.office == office_code


def require_manager(principal: Principal, office_code: str) -> None:
    if not can_manage(principal, office_code):
        raise Forbidden(
            f"only staff of {office_code} manage its orientation work"
            f" (you act for {principal.office or 'no office'})"
        )
