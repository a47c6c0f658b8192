"""A retried request is authorised like a fresh one: the answer an `Idempotency-Key` stored
belongs to the identity it was given to (docs/security.md, "Who may touch what").

Every route that takes the `Idempotency-Key` header (read from the OpenAPI documents) is sent
again, with the key and the body its owner sent while the fixture world was built (conftest.py
`world.writes`), by another identity with the same `sub`: the same officer's subject with an
office and province of Champasak, an admin's subject as a Champasak officer, agency A's agent's
subject acting for agency B. It must never get the stored answer (`Idempotent-Replayed`, or the
first answer's body); it runs as that identity's own request, so it is refused (4xx
problem+json, the service's database unchanged) unless that identity may do it itself
(FRESH_BY_DESIGN).
"""

from __future__ import annotations

from typing import Any

from labourx.catalog import SERVICES
from shared.app import create_app
from tests.abuse.conftest import World, Write, changed_tables, fingerprint
from tests.support import bearer

PROBLEM = "application/problem+json"

# Routes that take the header but that the world does not write with, and why.
NOT_WRITTEN = {
    ("notify", "POST", "/v1/templates"): "a new template version changes what every later"
    " message of the other suites says; admins only, refused by role before any replay",
    ("registry", "POST", "/v1/offices"): "a new office joins every office list the other suites"
    " read; admins only, refused by role before any replay",
}

# Routes the other identity may use itself: its request runs and answers as its own.
FRESH_BY_DESIGN = {
    ("registry", "POST", "/v1/people/duplicate-check"): "any officer checks for duplicates"
    " (people of other provinces shown as identity cards)",
    ("registry", "POST", "/v1/imports"): "an import answers row by row (a row of another"
    " province is an error row) and keeps the batch",
    ("registry", "POST", "/v1/people/{person_id}/visits"): "any office records a visit",
    ("registry", "POST", "/v1/people/{person_id}/transfer"): "any office takes over a person"
    " who moved",
    ("matching", "POST", "/v1/agencies/{agency_id}/complaints"): "any office takes a complaint",
}

# Answers that show people of other provinces as identity cards (their id and reference).
CARDS = {("registry", "POST", "/v1/people/duplicate-check")}

# Whose answer is replayed → the other identity that sends it again with the same `sub`.
OTHER = {
    "vt_esc": {"roles": ["esc_staff"], "office": "ESC-CH", "province": "LA-CH"},
    "vt_mrc": {"roles": ["mrc_staff"], "office": "MRC-CH", "province": "LA-CH"},
    "admin": {"roles": ["esc_staff"], "office": "ESC-CH", "province": "LA-CH"},
    "agent": {"roles": ["agency"], "agency_of": "agency"},
}


def idempotent_routes(world: World) -> list[tuple[str, str, str]]:
    """(service, method, path) of every operation that takes the Idempotency-Key header."""
    found = []
    for name in SERVICES:
        document = create_app(SERVICES[name], world.settings).openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if any(
                    p["in"] == "header" and p["name"].lower() == "idempotency-key"
                    for p in operation.get("parameters", [])
                ):
                    found.append((name, method.upper(), path))
    return found


def other_identity(world: World, write: Write) -> dict[str, str]:
    """The same `sub` as the write's owner, with the claims of someone else."""
    claims: dict[str, Any] = dict(OTHER[write.owner])
    roles = claims.pop("roles")
    if "agency_of" in claims:
        claims = {"agency": world.agencies[claims.pop("agency_of")]}
    return bearer(world.settings, world.subjects[write.owner], roles, **claims)


async def test_a_replayed_key_under_another_identity_with_the_same_sub_is_authorised_afresh(
    world: World,
) -> None:
    routes = idempotent_routes(world)
    first: dict[tuple[str, str, str], Write] = {}
    for write in world.writes:
        if write.key is not None:
            first.setdefault((write.service, write.method, write.route), write)
    missing = [
        f"{' '.join(route)}: the world never writes with it (add a write to conftest.py)"
        for route in routes
        if route not in first and route not in NOT_WRITTEN
    ]
    assert not missing, "\n".join(missing)
    problems = []
    cases = 0
    for route in routes:
        if route not in first:
            continue
        write = first[route]
        cases += 1
        headers = {**other_identity(world, write), "Idempotency-Key": str(write.key)}
        client = world.clients[write.service]
        before = await fingerprint(world.settings, write.service)
        if write.content_type is not None:
            headers["Content-Type"] = write.content_type
            answer = await client.request(
                write.method, write.path, content=write.body, headers=headers
            )
        else:
            answer = await client.request(
                write.method, write.path, json=write.body, headers=headers
            )
        after = await fingerprint(world.settings, write.service)
        said = f"{' '.join(route)} (owner {write.owner})"
        if answer.headers.get("Idempotent-Replayed") or (
            answer.status_code == write.status and answer.content and answer.json() == write.answer
        ):
            problems.append(f"{said}: got the stored answer ({answer.status_code})")
            continue
        sent = write.path + repr(write.body)
        hidden = world.secrets | (set() if route in CARDS else world.identifiers)
        if leaked := sorted(s for s in hidden if s in answer.text and s not in sent):
            problems.append(f"{said}: {answer.status_code} shows {leaked}")
        if route in FRESH_BY_DESIGN:
            continue
        if not 400 <= answer.status_code < 500:
            problems.append(f"{said}: {answer.status_code}, not refused: {answer.text[:200]}")
        elif not answer.headers.get("content-type", "").startswith(PROBLEM):
            problems.append(f"{said}: {answer.status_code} is not problem+json")
        if changed := changed_tables(before, after):
            problems.append(f"{said}: changed {write.service} tables {changed}")
    print(f"\nidempotent replays: {len(routes)} routes take the key, {cases} replayed")
    assert not problems, "\n".join(problems)
    assert cases >= 35
