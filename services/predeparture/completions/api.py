"""HTTP routes for completions (built out by issue 5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["completions"])
