"""Kafka topics: one per aggregate stream (DESIGN.md section 3)."""

from __future__ import annotations

REGISTRY_PEOPLE = "registry.people"
MATCHING_VACANCIES = "matching.vacancies"
MATCHING_REFERRALS = "matching.referrals"
MATCHING_AGENCIES = "matching.agencies"
PREDEPARTURE_ORIENTATIONS = "predeparture.orientations"
NOTIFY_DELIVERIES = "notify.deliveries"

AGGREGATE_TOPICS = (
    REGISTRY_PEOPLE,
    MATCHING_VACANCIES,
    MATCHING_REFERRALS,
    MATCHING_AGENCIES,
    PREDEPARTURE_ORIENTATIONS,
    NOTIFY_DELIVERIES,
)


def dead_letter_topic(group: str) -> str:
    return f"dlq.{group}"


def retry_topic(group: str) -> str:
    """Where `labourx dlq replay <group>` sends that group's dead letters.

    Only this group subscribes to it, so a replay never reaches the other groups reading the
    original topic (they applied or dead-lettered those records already).
    """
    return f"retry.{group}"
