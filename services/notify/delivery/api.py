"""HTTP routes of delivery: the gateway's delivery receipts and inbound SMS (STOP)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["delivery"])
