"""A figure whose requests did not all succeed is reported invalid, never as a throughput.

Issue 19: a POST figure was printed as "181 req/s" with "failed requests 2287" beside it.
"""

from __future__ import annotations

import math
from typing import Any

from bench import e2e_sweep, report
from bench.post_throughput import failures_by_status


def _server(rps: float, failed: int, statuses: dict[str, int]) -> dict[str, Any]:
    return {
        "throughput_rps": rps,
        "rounds_rps": [rps],
        "latency": {"count": 10, "p50_ms": 1.0, "p99_ms": 2.0},
        "median_server_cpu_ms_per_request": 1.0,
        "cores_used": {"server": 1.0},
        "failed": failed,
        "failures_by_status": statuses,
    }


def _results(failed: int) -> dict[str, Any]:
    statuses = {"409": failed} if failed else {}
    return {
        "started_at": "2026-12-05T00:00:00+00:00",
        "machine": {
            "commit": "abc",
            "cpus_usable": 2,
            "cpu_model": "x",
            "memory_gib": 1,
            "python": "3.11",
            "postgresql": "18",
            "broker": "tansu",
        },
        "post": {
            "requests": 1000,
            "concurrency": 32,
            "rounds": 3,
            "labourx": _server(181.0, failed, statuses),
            "reference": _server(700.0, 0, {}),
            "reference_bare": _server(1400.0, 0, {}),
            "throughput_ratio": 0.26,
            "bare_throughput_ratio": 0.13,
        },
    }


def test_failed_requests_make_the_post_figure_invalid() -> None:
    results = _results(failed=2287)
    checks = report.checks(results)
    assert [c.met for c in checks] == [False, False]  # --fail-on-miss exits 1
    for check in checks:  # neither the ratio nor the CPU per request of failed requests
        assert math.isnan(check.measured)
        assert "INVALID" in check.figure
    text = report.render(results)
    assert "INVALID: 2,287 of 3,000 failed (409: 2,287)" in text
    assert "181 req/s" not in text
    assert "0.26" not in text


def test_a_valid_post_figure_is_reported() -> None:
    results = _results(failed=0)
    ratio, cpu = report.checks(results)
    assert ratio.measured == 0.26
    assert not ratio.met  # the target is 0.8
    assert cpu.measured == 1.0
    assert cpu.met  # the target is 1.1 ms
    assert "181 req/s" in report.render(results)


def test_failures_are_counted_by_status_and_unanswered() -> None:
    runs = [
        {"requests": 10, "statuses": {"201": 7, "409": 2}},
        {"requests": 10, "statuses": {"201": 9, "ConnectionError": 1}},
    ]
    assert failures_by_status(runs) == {"409": 2, "ConnectionError": 1, "unanswered": 1}


def test_an_invalid_pipeline_figure_has_no_cpu() -> None:
    pipeline = {
        "target_rate_rps": 100,
        "duration_s": 15,
        "valid": False,
        "failures_by_status": {"503": 70},
        "not_through": {},
        "labourx_cpu_ms_per_registration": 10.26,
    }
    [check] = report.checks({"pipeline": pipeline})
    assert not check.met
    assert math.isnan(check.measured)


def _e2e(rate: float, p99: float, arrived: int) -> dict[str, Any]:
    expected = round(rate * 10)
    return {
        "target_rate_rps": rate,
        "duration_s": 10,
        "registered": expected,
        "arrived": arrived,
        "http": {"statuses": {"201": expected}},
        "latency": {"count": arrived, "p50_ms": p99 / 3, "p99_ms": p99},
        "cores_used": {},
    }


def test_the_sweep_holds_a_rate_only_when_all_arrived_within_the_target() -> None:
    assert e2e_sweep.held(_e2e(100, 240.0, 1000))
    assert not e2e_sweep.held(_e2e(100, 260.0, 1000))  # over the target
    assert not e2e_sweep.held(_e2e(100, 40.0, 999))  # one did not arrive: not keeping up


def test_the_sweep_reports_the_last_rate_that_held_and_why_it_stopped() -> None:
    sweep = {
        "duration_s": 10,
        "target_p99_ms": 250.0,
        "highest_rate_rps": 150.0,
        "tried": [
            {
                "rate_rps": 150.0,
                "held": True,
                "valid": True,
                "latency": {"p50_ms": 20.0, "p99_ms": 60.0},
                "arrived": 1500,
                "registered": 1500,
                "cores_used": {},
            },
            {
                "rate_rps": 200.0,
                "held": False,
                "valid": False,
                "latency": {"p50_ms": 900.0, "p99_ms": 4000.0},
                "arrived": 1700,
                "registered": 2000,
                "cores_used": {},
            },
        ],
    }
    text = e2e_sweep.render(sweep)
    assert "150/s" in text
    assert "INVALID" in text  # 200/s did not keep up: not a latency
    assert "arrived 1,700 of 2,000" in text
