"""Scheduled work of delivery: handing due messages to their channel's provider."""

from __future__ import annotations

from shared.service import PeriodicJob

JOBS: list[PeriodicJob] = []
