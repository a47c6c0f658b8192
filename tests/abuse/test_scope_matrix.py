"""Cross-scope access to every route that names an object, derived from what the services
publish: the OpenAPI documents of registry, matching, predeparture and notify, and the console's
routes. Every route with a path parameter is called with the fixture world's objects (all of
Vientiane Capital, see conftest.py) by everyone who must not touch them: ESC and MRC staff of
Champasak, another partner (its API key and a partner token), another agency's agent, and for
writes a national analyst.

Each case must end with 403 or 404 as problem+json (401 where the route takes only a partner's
API key and the caller has none), nothing personal of the world in the answer, and the called
service's database unchanged: a digest of every row of every table is taken before and after
(conftest.fingerprint). A route a person of another scope may use by design (what the network
publishes for everyone, "Who sees what" in docs/architecture.md) is listed in BY_DESIGN with
the reason: reads are still called, and must answer without anything personal of the world;
writes are not (they would change the world the other cases need).

A route added later is in the matrix without anyone remembering: its path parameters must name
objects of the world (PATH_VALUES in conftest.py), and a write must have a body here; the test
fails naming what is missing. The size of the matrix is printed (`-s`) and asserted.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from fastapi.routing import APIRoute

from labourx.catalog import SERVICES, load
from shared.app import create_app
from tests.abuse.conftest import (
    CONSOLE_URL,
    TODAY,
    World,
    changed_tables,
    fingerprint,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

PROBLEM = "application/problem+json"
STAFF = frozenset({"esc_ch", "mrc_ch"})
# Who is tried on every route; the analyst (national scope, reads aggregates) on writes only.
INTRUDERS = ("esc_ch", "mrc_ch", "partner", "agency", "analyst")
READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class ByDesign:
    who: frozenset[str]
    why: str


# (method, route) → who may use it on another scope's object, and why ("Who sees what").
BY_DESIGN: dict[tuple[str, str], ByDesign] = {
    ("GET", "/v1/employers/{employer_id}"): ByDesign(
        STAFF | {"analyst"}, "employers are business data every officer and analyst reads"
    ),
    ("GET", "/v1/agencies/{agency_id}"): ByDesign(
        STAFF | {"analyst"}, "licensed agencies and their status are the public register"
    ),
    ("GET", "/v1/agencies/{agency_id}/complaints"): ByDesign(
        STAFF, "an office reads the complaints it took (none of the world's: it answers empty)"
    ),
    ("POST", "/v1/agencies/{agency_id}/complaints"): ByDesign(
        STAFF, "any office takes a complaint about any licensed agency"
    ),
    ("GET", "/v1/vacancies/{vacancy_id}"): ByDesign(
        STAFF | {"analyst"}, "a vacancy is national once published"
    ),
    ("GET", "/v1/vacancies/{vacancy_id}/candidates"): ByDesign(
        STAFF, "staff of every office rank a published vacancy, among the people they serve"
    ),
    ("GET", "/v1/curricula/{curriculum_id}"): ByDesign(
        STAFF | {"analyst"}, "curricula are national"
    ),
    ("GET", "/v1/certificates/verify/{code}"): ByDesign(
        frozenset(INTRUDERS), "certificate verification is public (initials, dates, status)"
    ),
    ("GET", "/v1/outreach/{outreach_id}"): ByDesign(
        STAFF | {"analyst"},
        "an outreach record is the head counts of a village session, no one named; every"
        " office reads them (tests/predeparture/test_outreach.py)",
    ),
    ("GET", "/v1/templates/{key}/{channel}/{language}/versions"): ByDesign(
        STAFF, "message templates are the network's, read by every office"
    ),
    ("POST", "/v1/people/{person_id}/visits"): ByDesign(
        STAFF, "an office serves a person of another province by recording their visit"
    ),
    ("POST", "/v1/people/{person_id}/transfer"): ByDesign(
        STAFF, "a person who moved is taken over by their new office"
    ),
    # The console: a person outside one's scope is shown as their identity card (403), from
    # which an officer records a visit or takes the record over.
    ("GET", "/people/{person}/visit"): ByDesign(STAFF, "the identity card, to record a visit"),
    ("POST", "/people/{person}/visit"): ByDesign(STAFF, "recording a visit (registry's rule)"),
    ("GET", "/people/{person}/take-over"): ByDesign(STAFF, "the identity card, to take over"),
    ("POST", "/people/{person}/take-over"): ByDesign(STAFF, "taking over (registry's rule)"),
}

# The console answers a person outside one's scope with their identity card (the page itself,
# or a refused form shown again), and that showing is written to registry's audit trail
# ("Finding someone from elsewhere"): the only change a console case may make.
CARD_AUDIT = "audit_log"

# Console path parameters that name no object of anyone's: nothing to cross.
NOT_OBJECTS = {
    "version": "a static asset's version",
    "name": "a static asset's file name",
    "language": "the console's own language files (the notify template's is an object)",
    "path": "the fallback page for unknown addresses",
}


def bodies(world: World) -> dict[tuple[str, str], Any]:
    """A valid body for every write with a path parameter (its owner could send it), so that
    it is scope that refuses the intruder, not validation. The console's forms by field name."""
    pid = world.ids["person_id"]
    roster_row = {"person_id": pid, "module_code": "RIGHTS", "status": "absent"}
    return {
        # registry
        ("PATCH", "/v1/people/{person_id}"): {"village": "Ban Intruder"},
        ("POST", "/v1/people/{person_id}/merge"): {
            "duplicate_id": world.ids["_migrant"],
            "reason": "the same person, says another province",
        },
        ("POST", "/v1/people/{person_id}/erasure"): {"reason": "asked by nobody"},
        ("POST", "/v1/people/{person_id}/jobseeker/status"): {
            "status": "inactive",
            "reason": "found work alone",
        },
        ("POST", "/v1/people/{person_id}/consents"): {
            "purpose": "partner_sharing",
            "status": "given",
            "method": "signed",
            "scope": {"category": "ngos"},
        },
        ("POST", "/v1/people/{person_id}/migrations"): {
            "destination_country": "KR",
            "channel": "other_regular",
        },
        ("PATCH", "/v1/migrations/{migration_id}"): {"visa_number": "V9876543"},
        ("POST", "/v1/migrations/{migration_id}/status"): {"status": "cancelled"},
        ("POST", "/v1/people/{person_id}/visits"): {"reason": "came to our office"},
        ("POST", "/v1/people/{person_id}/transfer"): {"reason": "moved to Champasak"},
        # matching
        ("PATCH", "/v1/employers/{employer_id}"): {
            "name": "Renamed from Champasak",
            "province_code": "LA-CH",
            "contact_phone": "020 5555 9999",
        },
        ("POST", "/v1/agencies/{agency_id}/status"): {
            "status": "suspended",
            "reason": "suspended by someone who may not",
        },
        ("POST", "/v1/agencies/{agency_id}/licence"): {
            "licence_expires_on": (TODAY + timedelta(days=3650)).isoformat()
        },
        ("POST", "/v1/agencies/{agency_id}/complaints"): {
            "category": "other",
            "received_on": TODAY.isoformat(),
            "description": "a complaint",
        },
        ("POST", "/v1/agencies/{agency_id}/complaints/{complaint_id}/status"): {
            "status": "dismissed",
            "outcome": "dismissed by someone who may not",
        },
        ("PATCH", "/v1/vacancies/{vacancy_id}"): {"description": "Changed from Champasak"},
        ("POST", "/v1/vacancies/{vacancy_id}/status"): {"status": "closed"},
        ("POST", "/v1/referrals/{referral_id}/status"): {
            "status": "withdrawn",
            "reason": "withdrawn by someone who may not",
        },
        ("POST", "/v1/referrals/{referral_id}/placement"): {"starts_on": TODAY.isoformat()},
        ("POST", "/v1/placements/{placement_id}/end"): {
            "ended_on": TODAY.isoformat(),
            "reason": "ended by someone who may not",
        },
        ("POST", "/v1/vacancies/{vacancy_id}/name-list"): {"entries": [{"person_id": pid}]},
        ("POST", "/v1/vacancies/{vacancy_id}/name-list/{person_id}/withdrawal"): {
            "reason": "withdrawn by someone who may not"
        },
        ("POST", "/v1/vacancies/{vacancy_id}/costs"): {
            "person_id": pid,
            "item": "medical_check",
            "amount": "500",
            "currency": "THB",
            "paid_by": "worker",
        },
        # predeparture
        ("PATCH", "/v1/sessions/{session_id}"): {"venue": "Moved by someone who may not"},
        ("POST", "/v1/sessions/{session_id}/status"): {
            "status": "cancelled",
            "reason": "cancelled by someone who may not",
        },
        ("POST", "/v1/sessions/{session_id}/enrolments"): {"person_id": pid},
        ("POST", "/v1/sessions/{session_id}/enrolments/{enrolment_id}/cancellation"): {
            "reason": "cancelled by someone who may not"
        },
        ("PUT", "/v1/sessions/{session_id}/attendance"): {"rows": [roster_row]},
        ("POST", "/v1/sessions/{session_id}/attendance/corrections"): {
            "reason": "changed by someone who may not",
            "rows": [roster_row],
        },
        # notify
        ("PATCH", "/v1/partners/{partner_id}"): {"name": "Renamed by someone who may not"},
        ("POST", "/v1/partners/{partner_id}/subscriptions"): {"stream": "matching.vacancies"},
        ("POST", "/v1/partners/{partner_id}/subscriptions/{subscription_id}/disable"): {
            "reason": "disabled by someone who may not"
        },
        ("POST", "/v1/partners/me/subscriptions/{subscription_id}/disable"): {
            "reason": "disabled by someone who may not"
        },
        # the console's forms
        ("POST", "/people/{person}/consents"): {
            "consent.purpose": "contact_email",
            "consent.status": "given",
            "consent.method": "signed",
        },
        ("POST", "/people/{person}/consents/withdraw"): {
            "withdraw.purpose": "contact_sms",
            "withdraw.method": "signed",
        },
        ("POST", "/people/{person}/status"): {
            "status.status": "inactive",
            "status.reason": "found work alone",
        },
        ("POST", "/people/{person}/migrations"): {
            "open_migration.destination_country": "KR",
            "open_migration.channel": "other_regular",
        },
        ("POST", "/people/{person}/migrations/{migration_id}/status"): {
            f"move-{world.ids['migration_id']}.status": "cancelled"
        },
        ("POST", "/people/{person}/migrations/{migration_id}/documents"): {
            f"docs-{world.ids['migration_id']}.visa_number": "V9876543"
        },
        ("POST", "/people/{person}/erase"): {
            "step": "confirm",
            "erase.confirm": world.ids["person"],
            "erase.reason": "asked by nobody",
        },
    }


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # the template
    params: tuple[str, ...]
    has_body: bool
    key_only: bool  # authenticated by a partner's API key alone


def api_routes(world: World) -> list[Route]:
    """Every operation of the four APIs with a path parameter, from their OpenAPI documents."""
    found = []
    for name in SERVICES:
        document = create_app(SERVICES[name], world.settings).openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                params = tuple(
                    p["name"] for p in operation.get("parameters", []) if p["in"] == "path"
                )
                if not params:
                    continue
                schemes = {s for requirement in operation.get("security", []) for s in requirement}
                found.append(
                    Route(
                        name,
                        method.upper(),
                        path,
                        params,
                        "requestBody" in operation,
                        bool(schemes) and schemes <= {"APIKeyHeader"},
                    )
                )
    return found


def console_routes(app: FastAPI) -> list[Route]:
    """Every console route with a path parameter (the console publishes no OpenAPI document:
    its routes are read from its routers, included ones too)."""
    found = []
    pending = [route for router in load("console").routers for route in router.routes]
    while pending:
        route = pending.pop()
        if not isinstance(route, APIRoute):
            included = getattr(route, "original_router", None)
            pending.extend(included.routes if included is not None else [])
            continue
        params = tuple(re.findall(r"{(\w+)(?::\w+)?}", route.path))
        if not params:
            continue
        for method in sorted(route.methods or ()):
            found.append(
                Route("console", method, re.sub(r":\w+}", "}", route.path), params, False, False)
            )
    return sorted(found, key=lambda r: (r.path, r.method))


@dataclass
class Findings:
    cases: int = 0
    problems: list[str] | None = None

    def add(self, route: Route, who: str, problem: str) -> None:
        assert self.problems is not None
        self.problems.append(f"{route.service} {route.method} {route.path} as {who}: {problem}")


def _leaks(world: World, text: str, sent: str) -> list[str]:
    """The world's secrets in an answer (those the caller sent themselves excepted)."""
    return sorted(s for s in world.secrets | world.identifiers if s in text and s not in sent)


async def _api_case(world: World, route: Route, who: str, body: Any, findings: Findings) -> None:
    path = route.path.format(**{p: world.ids[p] for p in route.params})
    headers = world.intruders[who]
    allowed = BY_DESIGN.get((route.method, route.path))
    permitted = allowed if allowed is not None and who in allowed.who else None
    if permitted is not None and route.method not in READS:
        return  # by design, and it would change the world the other cases need
    findings.cases += 1
    client = world.clients[route.service]
    before = await fingerprint(world.settings, route.service)
    answer = await client.request(route.method, path, json=body, headers=headers)
    after = await fingerprint(world.settings, route.service)
    leaked = _leaks(world, answer.text, path + repr(body))
    if leaked:
        findings.add(route, who, f"{answer.status_code} shows {leaked}")
    if permitted is not None:
        if answer.status_code != 200:
            findings.add(route, who, f"by design ({permitted.why}), but {answer.status_code}")
        return
    wanted = {401, 403, 404} if route.key_only and "X-API-Key" not in headers else {403, 404}
    if answer.status_code not in wanted:
        findings.add(route, who, f"{answer.status_code}, not {sorted(wanted)}: {answer.text[:200]}")
    elif not answer.headers.get("content-type", "").startswith(PROBLEM):
        findings.add(route, who, f"{answer.status_code} is not problem+json")
    if changed := changed_tables(before, after):
        findings.add(route, who, f"changed {route.service} tables {changed}")


async def _owner_reads(world: World, route: Route) -> bool:
    """Some owner of the world reads the route's object: the ids name real objects."""
    path = route.path.format(**{p: world.ids[p] for p in route.params})
    for headers in world.owners.values():
        answer = await world.clients[route.service].get(path, headers=headers)
        if answer.status_code == 200:
            return True
    return False


def _missing(world: World, routes: list[Route], written: dict[tuple[str, str], Any]) -> list[str]:
    """What the world or this test lacks to exercise every route."""
    missing = []
    for route in routes:
        unknown = [p for p in route.params if p not in world.ids and p not in NOT_OBJECTS]
        if unknown:
            missing.append(
                f"{route.method} {route.path}: no object of the world for {unknown}"
                " (add one to the world, tests/abuse/conftest.py PATH_VALUES)"
            )
        if route.has_body and (route.method, route.path) not in written:
            missing.append(f"{route.method} {route.path}: no body (add one to bodies())")
    return missing


async def test_no_route_with_an_id_lets_another_scope_in(world: World) -> None:
    routes = api_routes(world)
    written = bodies(world)
    missing = _missing(world, routes, written)
    assert not missing, "\n".join(missing)
    findings = Findings(problems=[])
    for route in routes:
        if route.method in READS and not await _owner_reads(world, route):
            findings.add(route, "its owner", "answers no owner: the world's ids are wrong")
        for who in INTRUDERS:
            if who == "analyst" and route.method in READS:
                continue
            await _api_case(world, route, who, written.get((route.method, route.path)), findings)
    print(f"\nscope matrix: {len(routes)} routes with an id, {findings.cases} cases")
    assert not findings.problems, "\n".join(findings.problems)
    # The matrix is what it says: every route, everyone (a floor, so it cannot shrink unseen).
    assert len(routes) >= 80
    assert findings.cases >= 350


# -- the console -------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


async def _signed_in(app: FastAPI, office: str, role: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=True), base_url=CONSOLE_URL
    )
    page = await browser.get("/sign-in")
    [token] = _CSRF.findall(page.text)[:1]
    done = await browser.post(
        "/sign-in/dev",
        data={"csrf_token": token, "role": role, "office_code": office, "next": "/"},
    )
    assert done.status_code == 303, done.text
    # The forms below carry the CSRF token as this does: a refusal of theirs is then the
    # services' scope, not a token the console did not take.
    chosen = await browser.post(
        "/language", data={"csrf_token": await _csrf(browser), "language": "lo"}
    )
    assert chosen.status_code == 303, chosen.text
    return browser


async def _csrf(browser: httpx.AsyncClient) -> str:
    """The CSRF token of the signed-in session, from a page's form."""
    home = await browser.get("/")
    return _CSRF.findall(home.text)[0]


async def test_no_console_page_with_an_id_lets_another_province_in(
    world: World, console: FastAPI
) -> None:
    """The console acts with the officer's own token, so the services' scope holds there too:
    its pages about a person of another province show their identity card at most (403), and
    its forms change nothing."""
    routes = console_routes(console)
    written = bodies(world)
    missing = _missing(world, routes, written) + [
        f"{r.method} {r.path}: no form (add one to bodies())"
        for r in routes
        if r.method not in READS
        and not set(r.params) & set(NOT_OBJECTS)
        and (r.method, r.path) not in BY_DESIGN
        and (r.method, r.path) not in written
    ]
    assert not missing, "\n".join(missing)
    findings = Findings(problems=[])
    for who, office, role in (("esc_ch", "ESC-CH", "esc_staff"), ("mrc_ch", "MRC-CH", "mrc_staff")):
        browser = await _signed_in(console, office, role)
        try:
            for route in routes:
                if set(route.params) & set(NOT_OBJECTS):
                    continue
                allowed = BY_DESIGN.get((route.method, route.path))
                if allowed is not None and route.method not in READS:
                    continue  # by design, and it would change the world
                findings.cases += 1
                path = route.path.format(**{p: world.ids[p] for p in route.params})
                before = {s: await fingerprint(world.settings, s) for s in ("registry", "matching")}
                if route.method in READS:
                    answer = await browser.get(path)
                else:
                    form = {
                        "csrf_token": await _csrf(browser),
                        "idempotency_key": str(uuid.uuid4()),
                        **written[(route.method, route.path)],
                    }
                    answer = await browser.request(route.method, path, data=form)
                after = {s: await fingerprint(world.settings, s) for s in ("registry", "matching")}
                leaked = _leaks(world, answer.text, path)
                if leaked:
                    findings.add(route, who, f"{answer.status_code} shows {leaked}")
                wanted = {200} if allowed is not None else {403, 404}
                if answer.status_code not in wanted:
                    findings.add(route, who, f"{answer.status_code}, not {sorted(wanted)}")
                for service in before:
                    changed = changed_tables(before[service], after[service])
                    if service == "registry" and CARD_AUDIT in changed:
                        grew = after[service][CARD_AUDIT][0] > before[service][CARD_AUDIT][0]
                        changed = [t for t in changed if not (t == CARD_AUDIT and grew)]
                    if changed:
                        findings.add(route, who, f"changed {service} tables {changed}")
        finally:
            await browser.aclose()
    print(f"\nconsole matrix: {len(routes)} routes with an id, {findings.cases} cases")
    assert not findings.problems, "\n".join(findings.problems)
    assert findings.cases >= 20


# -- what is filed where -----------------------------------------------------------------------

# Writes whose body names an office or a province that place nothing in a province's scope.
NOT_PLACING = {
    ("registry", "POST", "/v1/people/duplicate-check"): "a check: no one is filed",
    ("registry", "POST", "/v1/offices"): "admins open an office in any province",
    ("matching", "POST", "/v1/agencies"): "admins license agencies of any province (its seat)",
}
PLACING_FIELDS = ("office_code", "province_code")


def placing_routes(world: World) -> list[tuple[str, str, str]]:
    """(service, method, path) of every write whose body takes `office_code` or
    `province_code`, from the OpenAPI documents."""
    found = []
    for name in SERVICES:
        document = create_app(SERVICES[name], world.settings).openapi()
        schemas = document.get("components", {}).get("schemas", {})
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
                if set(schema.get("properties", {})) & set(PLACING_FIELDS):
                    found.append((name, method.upper(), path))
    return found


@dataclass(frozen=True)
class Placing:
    """One write of an owner of Vientiane naming an office or province of Champasak."""

    owner: str
    path: str
    body: dict[str, Any]
    field: str  # the field a 422 must name; a 403 names none


def _first_body(world: World, service: str, route: str, **changes: Any) -> dict[str, Any]:
    write = next(w for w in world.writes if (w.service, w.route) == (service, route))
    assert isinstance(write.body, dict)
    return write.body | changes


async def placing_cases(world: World) -> dict[tuple[str, str, str], list[Placing]]:
    """For every write that places something in a province, the owner's request placing it in
    Champasak. Objects a case changes are made here, not taken from the world."""
    from tests.support import jobseeker

    draft = await world.clients["matching"].post(
        "/v1/vacancies",
        json=_first_body(world, "matching", "/v1/vacancies") | {"demand_letter_ref": "DL-X"},
        headers=world.owners["agent"],
    )
    assert draft.status_code == 201, draft.text
    vacancy = draft.json()["id"]
    return {
        ("registry", "POST", "/v1/jobseekers"): [
            Placing("vt_esc", "/v1/jobseekers", jobseeker(office_code="ESC-CH"), "office_code"),
            Placing("vt_esc", "/v1/jobseekers", jobseeker(province_code="LA-CH"), ""),
        ],
        ("registry", "POST", "/v1/people"): [
            Placing("vt_mrc", "/v1/people", jobseeker(office_code="MRC-CH"), "office_code"),
        ],
        ("registry", "PATCH", "/v1/people/{person_id}"): [
            Placing(
                "vt_esc", f"/v1/people/{world.ids['person_id']}", {"province_code": "LA-CH"}, ""
            ),
        ],
        ("matching", "POST", "/v1/employers"): [
            Placing(
                "vt_esc",
                "/v1/employers",
                _first_body(world, "matching", "/v1/employers", province_code="LA-CH")
                | {"registration_number": f"ERN-{uuid.uuid4().hex[:10]}"},
                "",
            ),
        ],
        ("matching", "PATCH", "/v1/employers/{employer_id}"): [
            Placing(
                "vt_esc",
                f"/v1/employers/{world.ids['employer_id']}",
                {"province_code": "LA-CH"},
                "",
            ),
        ],
        ("matching", "POST", "/v1/vacancies"): [
            Placing(
                "vt_esc",
                "/v1/vacancies",
                next(
                    w.body
                    for w in world.writes
                    if w.route == "/v1/vacancies" and w.owner == "vt_esc"
                )
                | {"province_code": "LA-CH"},
                "",
            ),
        ],
        ("matching", "PATCH", "/v1/vacancies/{vacancy_id}"): [
            Placing("vt_esc", f"/v1/vacancies/{vacancy}", {"province_code": "LA-CH"}, ""),
        ],
        ("predeparture", "POST", "/v1/sessions"): [
            Placing(
                "vt_mrc",
                "/v1/sessions",
                _first_body(world, "predeparture", "/v1/sessions", office_code="MRC-CH"),
                "",
            ),
        ],
        ("predeparture", "POST", "/v1/outreach"): [
            Placing(
                "vt_mrc",
                "/v1/outreach",
                _first_body(world, "predeparture", "/v1/outreach", office_code="MRC-CH"),
                "",
            ),
        ],
    }


async def test_nothing_is_filed_under_an_office_or_province_of_another(world: World) -> None:
    """An officer of Vientiane names an office or province of Champasak in every write that
    takes one (read from the OpenAPI documents): refused, 403 (outside their scope) or 422
    naming the field (an office that is not of the record's province), and nothing written."""
    cases = await placing_cases(world)
    routes = placing_routes(world)
    missing = [" ".join(r) for r in routes if r not in cases and r not in NOT_PLACING]
    assert not missing, f"writes naming an office or province without a case: {missing}"
    assert len(routes) >= 12, routes
    problems = []
    for route in routes:
        for case in cases.get(route, []):
            service, method, _ = route
            before = await fingerprint(world.settings, service)
            answer = await world.clients[service].request(
                method, case.path, json=case.body, headers=world.owners[case.owner]
            )
            after = await fingerprint(world.settings, service)
            said = f"{' '.join(route)} ({case.owner}, {case.body.get('office_code')}"
            said += f" {case.body.get('province_code')})"
            wanted = {422} if case.field else {403}
            if answer.status_code not in wanted:
                problems.append(f"{said}: {answer.status_code}: {answer.text[:200]}")
                continue
            if not answer.headers.get("content-type", "").startswith(PROBLEM):
                problems.append(f"{said}: not problem+json")
            if case.field and case.field not in [e["field"] for e in answer.json()["errors"]]:
                problems.append(f"{said}: the 422 does not name {case.field}: {answer.text}")
            if changed := changed_tables(before, after):
                problems.append(f"{said}: changed {service} tables {changed}")
    assert not problems, "\n".join(problems)


async def test_an_office_serving_a_person_does_not_move_them_to_its_province_by_a_change(
    world: World,
) -> None:
    """An office of Champasak that serves a Vientiane person (a visit) acts for them, but does
    not move them by changing `province_code`: the record would stay at its Vientiane office.
    The person's new office takes them over instead."""
    from tests.support import jobseeker

    registry = world.clients["registry"]
    made = await registry.post("/v1/jobseekers", json=jobseeker(), headers=world.owners["vt_esc"])
    assert made.status_code == 201, made.text
    person = made.json()
    champasak = world.intruders["esc_ch"]
    visit = await registry.post(
        f"/v1/people/{person['id']}/visits", json={"reason": "came for advice"}, headers=champasak
    )
    assert visit.status_code == 201, visit.text
    before = await fingerprint(world.settings, "registry")

    moved = await registry.patch(
        f"/v1/people/{person['id']}", json={"province_code": "LA-CH"}, headers=champasak
    )

    assert moved.status_code == 422, moved.text
    assert moved.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in moved.json()["errors"]] == ["province_code"]
    assert "transfer" in moved.json()["errors"][0]["message"]
    assert changed_tables(before, await fingerprint(world.settings, "registry")) == []
    taken = await registry.post(
        f"/v1/people/{person['id']}/transfer", json={"reason": "moved to Pakse"}, headers=champasak
    )
    assert taken.status_code == 200, taken.text
    assert (taken.json()["province_code"], taken.json()["office_code"]) == ("LA-CH", "ESC-CH")
