"""labourx's roles. Their own module so that settings (which map an identity provider's role
names to these) and auth (which checks them) share one list without importing each other."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ESC_STAFF = "esc_staff"
    MRC_STAFF = "mrc_staff"
    AGENCY = "agency"
    PARTNER = "partner"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLE_NAMES = frozenset(role.value for role in Role)
