"""Offices: the kinds of office and the seed list the network starts with (shared with the
services that must know the offices before any event tells them)."""

from __future__ import annotations

from shared.reference.offices import SEED_MRCS, OfficeKind, seed_offices

__all__ = ["SEED_MRCS", "OfficeKind", "seed_offices"]
