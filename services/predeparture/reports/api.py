"""HTTP routes for reports (built out by issue 5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
