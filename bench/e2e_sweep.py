"""Figure 3b: the highest steady rate whose end-to-end p99 stays within the target.

The end-to-end figure (bench/end_to_end.py) at one rate says whether that rate holds; issue 19
asks which rate is the most the pipeline holds here. The sweep runs the same measurement at
rising rates, each with freshly started processes, and stops at the first rate that misses:
p99 over the target, or a run that is not valid (a request failed, or a registration did not
reach notify before the wait ran out, which is what a stage that cannot keep up looks like).
The answer is the last rate that held; the rates tried are kept, so a miss reads as a figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench import end_to_end, report
from bench.report import TARGET_E2E_P99_MS, e2e_valid

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bench.bodies import Numbering
    from bench.environment import Environment


def held(run: dict[str, Any]) -> bool:
    """Every registration arrived and the p99 stayed within the target."""
    p99 = run["latency"].get("p99_ms", float("inf"))
    return e2e_valid(run) and p99 <= TARGET_E2E_P99_MS


async def run(
    env: Environment,
    numbering: Numbering,
    rates: Sequence[float],
    duration_s: float,
    client: str = "raw",
) -> dict[str, Any]:
    tried: list[dict[str, Any]] = []
    highest: float | None = None
    for rate in sorted(rates):
        measured = await end_to_end.run(env, numbering, rate, duration_s, client)
        ok = held(measured)
        tried.append(
            {
                "rate_rps": rate,
                "held": ok,
                "valid": e2e_valid(measured),
                "latency": measured["latency"],
                "arrived": measured["arrived"],
                "registered": measured["registered"],
                "cores_used": measured["cores_used"],
            }
        )
        if not ok:
            break
        highest = rate
    return {
        "duration_s": duration_s,
        "target_p99_ms": TARGET_E2E_P99_MS,
        "highest_rate_rps": highest,
        "tried": tried,
    }


def rows(sweep: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    highest = sweep["highest_rate_rps"]
    found: list[tuple[str, str, str, str]] = [
        (
            f"End to end, rising rates for {sweep['duration_s']:g} s each: the highest whose "
            f"p99 <= {sweep['target_p99_ms']:g} ms",
            "none held" if highest is None else f"{highest:g}/s",
            "",
            "",
        )
    ]
    for tried in sweep["tried"]:
        latency = tried["latency"]
        p99 = latency.get("p99_ms")
        outcome = "held" if tried["held"] else ("missed" if tried["valid"] else "INVALID")
        found.append(
            (
                f"  {tried['rate_rps']:g}/s",
                f"p50 {latency.get('p50_ms', float('nan')):.0f} / p99 "
                + ("-" if p99 is None else f"{p99:.0f}")
                + f" ms, arrived {tried['arrived']:,} of {tried['registered']:,}",
                "",
                outcome,
            )
        )
    return found


def checks(sweep: Mapping[str, Any]) -> list[report.Check]:
    """Reported, not a target of its own: issue 19 asks for the rate (unknown before)."""
    highest = sweep["highest_rate_rps"]
    return [
        report.Check(
            f"highest steady rate with end-to-end p99 <= {sweep['target_p99_ms']:g} ms, req/s",
            0.0 if highest is None else highest,
            "reported",
            True,
        )
    ]


def render(sweep: Mapping[str, Any]) -> str:
    return report.figure_tables(rows(sweep), checks(sweep))
