"""Container probes; exit 0 when the check passes. Standard library only (the image's Python).

    healthcheck.py           alive: a relay, consumer or jobs process (no API) answers /metrics
                             on LABOURX_METRICS_PORT, or with none set, an API /healthz
    healthcheck.py --api     alive: an API answers /healthz on port 8000 (its metrics, on
                             LABOURX_METRICS_PORT too in production, do not tell that)
    healthcheck.py --ready   ready for traffic: the API's /readyz reports its database reachable

Readiness ignores the broker on purpose: with Kafka down, writes still succeed (their events
wait in the outbox), so an API must keep taking requests rather than leave its Service.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

API = "http://127.0.0.1:8000"


def _get(url: str) -> tuple[int, bytes]:
    # Fixed local URLs only (S310 would flag any scheme).
    try:
        with urllib.request.urlopen(url, timeout=9) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:  # /readyz answers 503 with its checks
        return exc.code, exc.read()


def alive() -> bool:
    port = os.environ.get("LABOURX_METRICS_PORT")
    status, _ = _get(f"http://127.0.0.1:{port}/metrics" if port else f"{API}/healthz")
    return status == 200


def api_alive() -> bool:
    status, _ = _get(f"{API}/healthz")
    return status == 200


def ready() -> bool:
    status, body = _get(f"{API}/readyz")
    if status == 200:
        return True
    try:
        checks = json.loads(body)["checks"]
    except (ValueError, KeyError, TypeError):
        return False
    return checks.get("database") == "ok"


def main(argv: list[str]) -> int:
    check = ready if "--ready" in argv else api_alive if "--api" in argv else alive
    try:
        passed = check()
    except OSError as exc:
        print(f"{check.__name__}: {exc}", file=sys.stderr)
        return 1
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
