"""Scheduled work of partner feeds: webhook deliveries."""

from __future__ import annotations

from shared.service import PeriodicJob

JOBS: list[PeriodicJob] = []
