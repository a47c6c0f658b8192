"""`labourx`: the one command line for development and operations."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shared.settings import SERVICES, get_settings

if TYPE_CHECKING:
    from shared.spec import ServiceSpec

# Imports of heavy modules (uvicorn, SQLAlchemy, a service's code) stay inside the commands
# that need them: `labourx relay` and the dev runner's supervisor load none of them.

app = typer.Typer(
    help="labourx: National Employment Service Network software.", no_args_is_help=True
)
schemas_app = typer.Typer(help="Event JSON Schemas.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter topics.", no_args_is_help=True)
erasures_app = typer.Typer(help="The erasure ledger (registry.erasures).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(dlq_app, name="dlq")
app.add_typer(erasures_app, name="erasures")

ServiceArg = Annotated[str, typer.Argument(help="registry, matching, predeparture or notify")]


def _known(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name


def _spec(name: str) -> ServiceSpec:
    from labourx.catalog import load

    return load(_known(name))


def _dev_port(name: str) -> int:
    from labourx.catalog import DEV_PORTS

    return DEV_PORTS[name]


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="Where the embedded PostgreSQL keeps data")] = Path(
        ".labourx"
    ),
    port_offset: Annotated[
        int, typer.Option(help="Added to every port (run two side by side)")
    ] = 0,
) -> None:
    """Start everything: PostgreSQL and broker if not configured, then each service (its
    migrations, API, relay, consumers and jobs) as one supervised process."""
    from labourx.catalog import DEV_PORTS
    from shared.devrun import run_dev

    status = run_dev(get_settings(), DEV_PORTS, data_dir=data_dir, port_offset=port_offset)
    raise typer.Exit(status)


@app.command("run")
def run_command(
    service: ServiceArg,
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: the service's dev port")] = None,
    provision: Annotated[
        bool, typer.Option(help="First create and migrate its database and create its topics")
    ] = False,
) -> None:
    """Run one service whole in one process: API, relay, consumers and jobs (development;
    production runs them apart with `api`, `relay`, `consume` and `jobs`)."""
    from shared.runtime import run_service

    run_service(
        _spec(service),
        get_settings(),
        host=host,
        port=port or _dev_port(service),
        provision=provision,
    )


@app.command()
def migrate(services: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Create service databases if missing and run their migrations to head (every service's,
    the console's sessions included, unless named)."""
    from labourx.catalog import ALL
    from shared.provision import prepare_databases

    specs = [_spec(s) for s in services] if services else list(ALL.values())
    asyncio.run(prepare_databases(get_settings(), specs))
    typer.echo(f"migrated: {', '.join(s.name for s in specs)}")


@app.command()
def topics() -> None:
    """Create every topic with the configured partitions, replication and retention; set the
    retention of the topics that exist (docs/operations.md, "Retention of events")."""
    from labourx.catalog import SERVICES
    from shared.provision import prepare_topics

    prepared = asyncio.run(prepare_topics(get_settings(), SERVICES.values()))
    typer.echo(f"created: {', '.join(prepared.created) or 'none (all existed)'}")
    typer.echo(f"retention set: {', '.join(prepared.reconfigured) or 'none (all as configured)'}")


@app.command()
def api(
    service: ServiceArg,
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: the service's dev port")] = None,
    workers: int = 1,
) -> None:
    """Serve a service's HTTP API (and, with LABOURX_METRICS_PORT, its /metrics on that port:
    the only place production serves them)."""
    import uvicorn

    from shared.http_limits import uvicorn_options
    from shared.runtime import serve_metrics

    settings = get_settings()
    if settings.metrics_port:
        if workers > 1:
            raise typer.BadParameter(
                "with LABOURX_METRICS_PORT run one worker per process (each worker would keep"
                " metrics of its own); run more processes instead",
                param_hint="--workers",
            )
        serve_metrics(None, settings)
    elif not settings.metrics_on_api_port:
        typer.echo(
            "no /metrics: production serves them on LABOURX_METRICS_PORT only, which is unset",
            err=True,
        )
    uvicorn.run(
        f"services.{_known(service)}.app:create",
        factory=True,
        host=host,
        port=port or _dev_port(service),
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        **uvicorn_options(settings),
    )


@app.command()
def relay(service: ServiceArg, metrics_port: int | None = None) -> None:
    """Run a service's outbox relay (one leads; extra ones wait as standbys)."""
    from shared.runtime import run_relay

    run_relay(_known(service), get_settings(), metrics_port)


@app.command()
def consume(service: ServiceArg, group: str | None = None, metrics_port: int | None = None) -> None:
    """Run one of a service's consumer groups (default: its first)."""
    from shared.runtime import run_consumer

    spec = _spec(service)
    if not spec.consumers:
        raise typer.BadParameter(f"{service} has no consumers")
    run_consumer(spec, group or spec.consumers[0].group, get_settings(), metrics_port)


@app.command()
def jobs(service: ServiceArg, metrics_port: int | None = None) -> None:
    """Run a service's scheduled jobs (e.g. registry's return reminders) until stopped."""
    from shared.runtime import run_jobs

    spec = _spec(service)
    if not spec.jobs:
        raise typer.BadParameter(f"{service} has no scheduled jobs")
    run_jobs(spec, get_settings(), metrics_port)


@app.command()
def token(
    role: Annotated[
        list[str], typer.Option(help="esc_staff, mrc_staff, agency, partner, analyst, admin")
    ],
    subject: str = "dev-user",
    office: str | None = None,
    province: Annotated[str | None, typer.Option(help="ISO 3166-2:LA, e.g. LA-VT")] = None,
    national: bool = False,
    agency: Annotated[str | None, typer.Option(help="Agency code, for the agency role")] = None,
    ttl_hours: int = 8,
) -> None:
    """Print a development bearer token signed with the shared secret."""
    from shared.auth import Role, mint_token

    for r in role:
        if r not in Role._value2member_map_:
            raise typer.BadParameter(f"unknown role {r!r}")
    typer.echo(
        mint_token(
            get_settings(),
            subject=subject,
            roles=role,
            office=office,
            province=province,
            national=national,
            agency=agency,
            ttl_s=ttl_hours * 3600,
        )
    )


@app.command("seed")
def seed_command(
    people: Annotated[int, typer.Option(min=0, help="Jobseekers and prospective migrants")] = 200,
    employers: Annotated[int, typer.Option(min=0)] = 20,
    agencies: Annotated[int, typer.Option(min=0, help="Licensed recruitment agencies")] = 4,
    vacancies: Annotated[int, typer.Option(min=0, help="Domestic jobs and demand letters")] = 100,
    seed: Annotated[
        int, typer.Option(help="Same seed, same data: a re-run creates nothing twice")
    ] = 0,
    registry_url: Annotated[str | None, typer.Option(help="Default: registry's dev port")] = None,
    matching_url: Annotated[str | None, typer.Option(help="Default: matching's dev port")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Requests at once")] = 8,
    force: Annotated[
        bool, typer.Option("--force", help="Seed even with LABOURX_ENV=production")
    ] = False,
) -> None:
    """Fill a running system through its APIs with synthetic agencies, employers, vacancies
    and people (with consents and migration records), for demos and benchmarks."""
    from shared.seed import seed as run_seed
    from shared.seed_api import SeedError
    from shared.seed_plan import Plan
    from shared.synthetic.people import CAPACITY
    from shared.synthetic.vacancies import generate_agencies, generate_employers

    settings = get_settings()
    if settings.env == "production" and not force:
        typer.echo(
            "refusing to seed a production system with synthetic people (LABOURX_ENV=production);"
            " pass --force if this really is what you want",
            err=True,
        )
        raise typer.Exit(2)
    registers = {
        "--people": (people, CAPACITY),
        "--employers": (employers, len(generate_employers(0))),
        "--agencies": (agencies, len(generate_agencies())),
    }
    for option, (asked, most) in registers.items():
        if asked > most:
            raise typer.BadParameter(f"at most {most:,}", param_hint=option)
    if vacancies and not (employers or agencies):
        raise typer.BadParameter("need --employers or --agencies", param_hint="--vacancies")
    dev_url = {name: f"http://127.0.0.1:{_dev_port(name)}" for name in SERVICES}
    plan = Plan(
        people=people,
        employers=employers,
        agencies=agencies,
        vacancies=vacancies,
        seed=seed,
        registry_url=(registry_url or dev_url["registry"]).rstrip("/"),
        matching_url=(matching_url or dev_url["matching"]).rstrip("/"),
        concurrency=concurrency,
    )
    started = time.monotonic()
    try:
        seeder = asyncio.run(run_seed(settings, plan, lambda line: typer.echo(line, err=True)))
    except SeedError as exc:
        typer.echo(f"seed stopped: {exc}", err=True)
        if exc.done:
            typer.echo("done before it stopped:\n" + "\n".join(exc.done), err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        typer.echo("seed interrupted: run it again to finish; nothing is created twice", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"seeded with --seed {seed} in {time.monotonic() - started:.1f} s:")
    typer.echo("\n".join(seeder.summary()))


@schemas_app.command("generate")
def schemas_generate() -> None:
    """Write the JSON Schema file of every event type (refuses breaking changes)."""
    from shared.events import schemas

    try:
        written = schemas.write_all()
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"written: {', '.join(written) or 'nothing (all current)'}")


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail when a checked-in schema file is stale."""
    from shared.events import schemas

    stale = schemas.stale_types()
    if stale:
        typer.echo(f"stale (run `labourx schemas generate`): {', '.join(stale)}", err=True)
        raise typer.Exit(1)
    typer.echo("schemas current")


@dlq_app.command("replay")
def dlq_replay(group: Annotated[str, typer.Argument(help="Consumer group, e.g. notify")]) -> None:
    """Send a group's dead letters to its retry topic, read by that group only (after the fix)."""
    from shared.dlq import replay_dead_letters

    count = asyncio.run(replay_dead_letters(get_settings(), group))
    typer.echo(f"replayed {count} dead letter(s) of {group}")


@erasures_app.command("reapply")
def erasures_reapply(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="A restored service (repeat); default: all four"),
    ] = None,
    from_registry: Annotated[
        bool,
        typer.Option(
            "--from-registry",
            help="Read registry's copy of the ledger (its database not restored) when the"
            " broker was lost",
        ),
    ] = False,
) -> None:
    """After restoring databases from a backup, and before starting the services: erase again
    every person erased since, in each restored service, by that service's own reaction; an
    entry is applied once however often this runs (docs/operations.md, "Back up and restore")."""
    from labourx.erasures import reapply_ledger

    names = [_known(s) for s in service] if service else list(SERVICES)
    done = asyncio.run(reapply_ledger(get_settings(), names, from_registry=from_registry))
    typer.echo("\n".join(done.lines()))


if __name__ == "__main__":
    app()
