"""HTTP routes for partner organisations: keys, subscriptions, deliveries and feeds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["partners"])
