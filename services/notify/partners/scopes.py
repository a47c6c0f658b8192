"""How much of the data a partner subscription may see: its scope, and their order."""

from __future__ import annotations

import enum


class Scope(enum.StrEnum):
    AGGREGATE = "aggregate"
    PSEUDONYMISED = "pseudonymised"
    PERSONAL = "personal"


SCOPE_RANK = {Scope.AGGREGATE: 0, Scope.PSEUDONYMISED: 1, Scope.PERSONAL: 2}
