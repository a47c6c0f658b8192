"""Delivery's pure rules: quiet hours, the hourly limit, backoff, keywords, receipts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.delivery.domain import (
    VIENTIANE,
    backoff_s,
    http_error,
    inbound_keyword,
    next_rate_slot,
    quiet_hours_end,
    receipt_outcome,
    smtp_error,
)

NIGHT = (time(21, 0), time(7, 0))


def vientiane(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=VIENTIANE)


@pytest.mark.parametrize(
    ("at", "until"),
    [
        (vientiane(20, 59), None),
        (vientiane(21, 0), vientiane(7, 0, day=11)),
        (vientiane(23, 45), vientiane(7, 0, day=11)),
        (vientiane(0, 30), vientiane(7, 0)),
        (vientiane(6, 59), vientiane(7, 0)),
        (vientiane(7, 0), None),
        (vientiane(12, 0), None),
    ],
)
def test_quiet_hours_span_midnight_in_vientiane_time(at: datetime, until: datetime | None) -> None:
    assert quiet_hours_end(at, *NIGHT) == until
    # The same instant in UTC gives the same answer: the rule is about Vientiane's clock.
    assert quiet_hours_end(at.astimezone(UTC), *NIGHT) == until


def test_quiet_hours_within_one_day_and_switched_off() -> None:
    lunch = (time(12, 0), time(13, 0))
    assert quiet_hours_end(vientiane(12, 30), *lunch) == vientiane(13, 0)
    assert quiet_hours_end(vientiane(13, 0), *lunch) is None
    assert quiet_hours_end(vientiane(23, 0), time(0, 0), time(0, 0)) is None


def test_the_hourly_limit_opens_a_slot_when_the_oldest_send_leaves_the_window() -> None:
    now = vientiane(12, 0)
    sent = [now - timedelta(minutes=m) for m in (50, 30, 10)]
    assert next_rate_slot(sent, 4, now) is None
    assert next_rate_slot(sent, 3, now) == now + timedelta(minutes=10)
    assert next_rate_slot(sent, 2, now) == now + timedelta(minutes=30)
    assert next_rate_slot([now - timedelta(minutes=61)] * 5, 1, now) is None


@given(
    attempt=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.1, max_value=60),
    cap=st.floats(min_value=60, max_value=7200),
    jitter=st.floats(min_value=0, max_value=0.999),
)
def test_backoff_grows_exponentially_stays_under_the_cap_and_never_below_half_a_step(
    attempt: int, base: float, cap: float, jitter: float
) -> None:
    step = min(cap, base * 2 ** (attempt - 1))
    wait = backoff_s(attempt, base, cap, jitter)
    assert step / 2 <= wait <= step <= cap


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        *[(400, True), (401, True), (404, True), (422, True)],
        *[(408, False), (429, False), (500, False), (502, False), (503, False), (504, False)],
    ],
)
def test_gateway_answers_that_may_succeed_later_are_temporary(status: int, permanent: bool) -> None:
    error = http_error(status, "x")
    assert (error.code, error.permanent) == (f"http_{status}", permanent)


def test_mail_servers_4xx_is_temporary_and_5xx_permanent() -> None:
    assert not smtp_error(451, "try later").permanent
    assert smtp_error(550, "no such user").permanent


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("  Stop! ", "stop"),
        ("STOP ALL", "stop"),
        ("stop   all", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("ຢຸດ", "stop"),
        ("ຢຸດ.", "stop"),
        ("START", "start"),
        ("ເລີ່ມ", "start"),
        ("please stop", None),
        ("stopping by the office tomorrow", None),
        ("ສະບາຍດີ", None),
        ("", None),
    ],
)
def test_only_a_message_that_is_a_keyword_acts(text: str, keyword: str | None) -> None:
    assert inbound_keyword(text) == keyword


@pytest.mark.parametrize(
    ("current", "last_error", "receipt", "target"),
    [
        ("sent", None, "delivered", "delivered"),
        ("sent", None, "expired", "failed"),
        ("sent", None, "undelivered", "failed"),
        ("delivered", None, "failed", None),
        ("delivered", None, "delivered", None),
        ("failed", "unknown_outcome: timeout", "delivered", "delivered"),
        ("failed", "http_400: invalid number", "delivered", None),
        ("cancelled", "STOP", "delivered", None),
        ("queued", None, "delivered", None),
    ],
)
def test_receipts_change_only_sent_messages_and_those_of_unknown_outcome(
    current: str, last_error: str | None, receipt: str, target: str | None
) -> None:
    assert receipt_outcome(current, last_error, receipt) == target  # type: ignore[arg-type]
