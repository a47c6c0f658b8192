"""Processes without an HTTP API (relay, consumer, jobs) serve /metrics on
LABOURX_METRICS_PORT on every interface, so a Prometheus in another container can scrape them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from tests.deploy.files import WorkerProcess


def test_metrics_port_setting_serves_metrics_on_every_interface(
    jobs_process: WorkerProcess,
) -> None:
    listening = [
        conn.laddr
        for conn in psutil.Process(jobs_process.process.pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == jobs_process.port
    ]
    assert [addr.ip for addr in listening] == ["0.0.0.0"]
    assert "labourx_job_items_total" in jobs_process.metrics
