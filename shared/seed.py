"""`labourx seed`: fill a running system with synthetic agencies, employers, vacancies and people
through its own HTTP APIs, so that every rule, event and read model treats them as real data.

Every POST carries an Idempotency-Key made of the seed and the item's index: a re-run with the
same --seed (after a dropped link, or on purpose) gets the first run's answers and creates
nothing twice; more people with the same seed adds the difference. Agencies and employers
are one national register whatever the seed: one already registered (same code or registration
number) is used as it is.

What is seeded is drawn in shared/seed_plan.py, the requests go through shared/seed_api.py (with
its retries); here are the run and its steps per service.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from shared import clock
from shared.auth import mint_token
from shared.seed_api import TIMEOUT_S, SeedApi, SeedError, explain, unreachable
from shared.seed_plan import agencies_in_order, employers_in_order, vacancy_rows
from shared.synthetic import generate_people

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from shared.seed_api import Answer
    from shared.seed_plan import Item, Plan
    from shared.settings import Settings

T = TypeVar("T")

SUBJECT = "labourx-seed"  # the officer every seeded record names as its author
PROGRESS_EVERY_S = 10.0

# Shares, drawn per item from the seed and the item's index.
CONSENT_GIVEN, CONSENT_REFUSED = 0.85, 0.05  # the others have not decided yet
MIGRANT_SHARE = 0.5  # of the adults willing to work abroad: an MRC opens a migration record
MIGRANT_WITH_AGENCY = 0.6
PUBLISHED_SHARE = 0.9  # the others stay drafts, waiting for an officer

VACANCY_FIELDS = (
    "kind", "title", "description", "isco08", "employer_id", "province_code", "district",
    "agency_id", "destination_country", "foreign_employer", "demand_letter_ref", "channel",
    "required_skills", "min_isced", "min_experience_years", "languages", "min_age", "max_age",
    "positions", "wage_amount", "wage_currency", "wage_period", "contract_months", "starts_on",
    "closes_on", "worker_fees",
)  # fmt: skip
EMPLOYER_FIELDS = ("name", "registration_number", "isic_section", "province_code", "district")
_DUPLICATE = frozenset({"probable-duplicate", "duplicate-document"})


def _active(agency: dict[str, Any]) -> bool:
    return bool(agency["status"] == "active")


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _age(born: str, today: date) -> int:
    birth = date.fromisoformat(born)
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def _each(items: Iterable[T], work: Callable[[T], Awaitable[None]], workers: int) -> None:
    """Run `work` on every item, `workers` at a time; the first error stops them all."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:
            await work(item)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


@dataclass
class Phase:
    """One kind of record: how many are wanted, what became of them, how long it took."""

    name: str
    wanted: int
    counts: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.counts["created"] + self.counts["existing"] + self.counts["skipped"]

    def tally(self, answer: Answer) -> None:
        self.counts["created" if answer.fresh and answer.ok else "existing"] += 1


class Seeder(SeedApi):
    """One seed run: its tokens and client, the offices and job bank found, and the counts."""

    def __init__(
        self, settings: Settings, plan: Plan, client: httpx.AsyncClient, say: Callable[[str], None]
    ) -> None:
        self.settings, self.plan, self.client, self.say = settings, plan, client, say
        self.today = clock.today()
        self.phases = {
            "agencies": Phase("agencies", plan.agencies),
            "employers": Phase("employers", plan.employers),
            "vacancies": Phase("vacancies", plan.vacancies),
            "people": Phase("people", plan.people),
        }
        self.offices: dict[str, str] = {}  # office code → province
        self.esc: dict[str, str] = {}  # province → the code of its ESC
        self.mrc: dict[str, str] = {}  # province → the code of its MRC
        # By index: the order (hence the vacancies drawn for them) must not depend on timing.
        self.agencies: dict[int, dict[str, Any]] = {}
        self.employers: dict[int, dict[str, Any]] = {}
        self._tokens: dict[tuple[str, str | None], dict[str, str]] = {}

    def _auth(self, role: str, office: str | None = None) -> dict[str, str]:
        """The seed's officer at `office` (of national scope without one)."""
        if (role, office) not in self._tokens:
            token = mint_token(
                self.settings,
                subject=SUBJECT,
                roles=[role],
                office=office,
                province=self.offices.get(office or ""),
                national=office is None,
                ttl_s=24 * 3600,
            )
            self._tokens[role, office] = {"Authorization": f"Bearer {token}"}
        return self._tokens[role, office]

    def _key(self, *parts: object) -> str:
        return ":".join(map(str, (SUBJECT, self.plan.seed, *parts)))

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> None:
        plan = self.plan
        for base in (plan.registry_url, plan.matching_url):
            try:
                response = await self.client.get(f"{base}/healthz")
            except httpx.TransportError as exc:
                raise SeedError(unreachable(base, exc)) from exc
            if not response.is_success:
                raise SeedError(explain("GET", f"{base}/healthz", response))
        # The office register is one short list, not paged: a `limit` it does not take would
        # be refused.
        url = f"{plan.registry_url}/v1/offices"
        response, _ = await self._send("GET", url, self._auth("admin"))
        if not response.is_success:
            raise SeedError(explain("GET", url, response))
        for office in response.json()["items"]:
            if office["active"]:
                self.offices[office["code"]] = office["province_code"]
                by_province = self.esc if office["kind"] == "esc" else self.mrc
                by_province.setdefault(office["province_code"], office["code"])
        progress = asyncio.create_task(self._report_progress())
        try:
            agencies = enumerate(agencies_in_order()[: plan.agencies])
            await self._phase("agencies", agencies, self._agency)
            employers = enumerate(employers_in_order(plan.seed)[: plan.employers])
            await self._phase("employers", employers, self._employer)
            vacancies = vacancy_rows(
                plan.vacancies,
                plan.seed,
                _first_of_next_month(self.today),  # the same terms, hence keys, all month
                [self.employers[i] for i in sorted(self.employers)],
                [self.agencies[i] for i in sorted(self.agencies) if _active(self.agencies[i])],
            )
            await self._phase("vacancies", vacancies, self._vacancy)
            people = enumerate(generate_people(plan.people, plan.seed))
            await self._phase("people", people, self._person)
        finally:
            progress.cancel()

    async def _phase(
        self, name: str, items: Iterable[Item], work: Callable[[Item], Awaitable[None]]
    ) -> None:
        phase = self.phases[name]
        if phase.wanted:
            phase.started = time.monotonic()
            await _each(items, work, self.plan.concurrency)
            phase.seconds = time.monotonic() - phase.started

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            for p in self.phases.values():
                if p.started and not p.seconds:
                    rate = p.done / (time.monotonic() - p.started)
                    self.say(f"{p.name}: {p.done:,} of {p.wanted:,} ({rate:,.0f}/s)")

    # -- agencies and employers: one register for every seed -----------------------------

    async def _agency(self, item: Item) -> None:
        index, agency = item
        issued = date(self.today.year - 1 - index % 3, index % 12 + 1, 1)
        body = {k: v for k, v in agency.items() if k != "id"} | {
            "licence_issued_on": issued,
            "licence_expires_on": issued.replace(year=issued.year + 5),
        }
        # The licence dates follow the year, so the year goes in the key.
        key = self._key("agency", index, self.today.year)
        url, admin = f"{self.plan.matching_url}/v1/agencies", self._auth("admin")
        answer = await self.post(url, body, admin, key, ["duplicate-agency"])
        record = await self._registered(url, admin, answer, "agencies")
        if record["code"] == agency["code"]:
            self.agencies[index] = record
        else:  # its licence number belongs to another agency: not ours to use
            self.phases["agencies"].counts["skipped"] += 1

    async def _employer(self, item: Item) -> None:
        index, employer = item
        url = f"{self.plan.matching_url}/v1/employers"
        staff = self._auth("esc_staff", self.esc.get(employer["province_code"]))
        body = {k: employer[k] for k in EMPLOYER_FIELDS}
        key = self._key("employer", index)
        answer = await self.post(url, body, staff, key, ["duplicate-registration-number"])
        self.employers[index] = await self._registered(url, staff, answer, "employers")

    async def _registered(
        self, url: str, headers: dict[str, str], answer: Answer, phase: str
    ) -> dict[str, Any]:
        """The record created, or the one already registered under the same code or number
        (by an earlier seed, or by hand) that a 409 names."""
        if answer.ok:
            self.phases[phase].tally(answer)
            return dict(answer.body)
        existing = answer.body.get("existing_id")
        if existing is None:
            raise SeedError(f"POST {url} answered {json.dumps(answer.body, ensure_ascii=False)}")
        response, _ = await self._send("GET", f"{url}/{existing}", headers)
        if not response.is_success:
            raise SeedError(explain("GET", f"{url}/{existing}", response))
        self.phases[phase].counts["existing"] += 1
        return dict(response.json())

    # -- vacancies ------------------------------------------------------------------------

    async def _vacancy(self, item: Item) -> None:
        index, row = item
        phase = self.phases["vacancies"]
        url = f"{self.plan.matching_url}/v1/vacancies"
        staff = self._auth("esc_staff", self.esc.get(row["province_code"]))
        body = {k: row[k] for k in VACANCY_FIELDS if row[k] is not None}
        # An agency suspended by its supervisors meanwhile may not recruit: left out.
        answer = await self.post(
            url, body, staff, self._key("vacancy", index), ["agency-not-eligible"]
        )
        if answer.problem == "agency-not-eligible":
            phase.counts["skipped"] += 1
            return
        phase.tally(answer)
        if not answer.ok:
            return  # created by a run of another month, with that month's dates
        phase.counts[row["kind"]] += answer.fresh
        if random.Random(self._key("publish", index)).random() >= PUBLISHED_SHARE:
            phase.counts["draft"] += answer.fresh
            return
        published = await self.post(
            f"{url}/{answer.body['id']}/status",
            {"status": "published"},
            staff,
            self._key("vacancy", index, "publish"),
            ["invalid-transition", "agency-not-eligible"],  # closed or paused meanwhile
        )
        phase.counts["published" if published.ok else "draft"] += published.fresh

    # -- people ---------------------------------------------------------------------------

    async def _person(self, item: Item) -> None:
        index, body = item
        phase = self.phases["people"]
        draw = random.Random(self._key("person", index)).random
        wish = body["jobseeker"]
        migrant = (
            wish["willing_to_work_abroad"]
            and bool(wish["abroad_countries"])
            and _age(body["date_of_birth"], self.today) >= self.settings.registry_min_age_migrant
            and draw() < MIGRANT_SHARE
        )
        province = body["province_code"]
        office = (self.mrc.get(province) if migrant else None) or self.esc.get(province)
        staff = self._auth("mrc_staff" if office in self.mrc.values() else "esc_staff", office)
        url = f"{self.plan.registry_url}/v1/jobseekers"
        answer = await self.post(url, body, staff, self._key("person", index), _DUPLICATE)
        if answer.problem in _DUPLICATE:
            # The officer looked at the candidates: a relative, not the same person. A re-run
            # lands here too (the person is their own duplicate) and gets the first answer.
            body = body | {"confirm_not_duplicate": True}
            key = self._key("person", index, "confirmed")
            answer = await self.post(url, body, staff, key, _DUPLICATE)
            if answer.problem == "duplicate-document":  # a person of another seed holds it
                phase.counts["skipped"] += 1
                return
            phase.counts["confirmed"] += answer.ok and answer.fresh
        phase.tally(answer)
        if not answer.ok:
            return
        person = answer.body["id"]
        if (consent := draw()) < CONSENT_GIVEN + CONSENT_REFUSED:
            status = "given" if consent < CONSENT_GIVEN else "refused"
            method = "signed" if draw() < 0.7 else "thumbprint" if draw() < 0.7 else "verbal"
            decision = {"purpose": "job_matching", "status": status, "method": method}
            if method != "signed":
                decision["witness_name"] = f"Duty officer, {office or 'registry'}"
            url = f"{self.plan.registry_url}/v1/people/{person}/consents"
            recorded = await self.post(url, decision, staff, self._key("consent", index))
            phase.counts[f"consent {status}"] += recorded.ok and recorded.fresh
        if migrant:
            await self._migration(index, person, body, staff, draw)

    async def _migration(
        self,
        index: int,
        person: str,
        body: dict[str, Any],
        staff: dict[str, str],
        draw: Callable[[], float],
    ) -> None:
        """A prospective migration record to the first country the person would go to."""
        country = body["jobseeker"]["abroad_countries"][0]
        record: dict[str, Any] = {
            "destination_country": country,
            "channel": "mou" if country == "TH" else "other_regular",
        }
        agencies = [
            a["code"] for a in self.agencies.values() if _active(a) and country in a["destinations"]
        ]
        if agencies and draw() < MIGRANT_WITH_AGENCY:
            record["agency_code"] = agencies[int(draw() * len(agencies))]
        for document in body["documents"]:
            if document["kind"] == "passport" and document["expires_on"] > str(self.today):
                record["passport_number"] = document["number"]
                record["passport_expires_on"] = document["expires_on"]
        url = f"{self.plan.registry_url}/v1/people/{person}/migrations"
        # 409: a record is open already (opened by hand since the first run).
        opened = await self.post(url, record, staff, self._key("migration", index), ["conflict"])
        self.phases["people"].counts["migration records"] += opened.ok and opened.fresh

    def summary(self) -> list[str]:
        """A line per kind of record: created (with what this run did to them), found already
        there, left out, and how fast."""
        lines = []
        for p in self.phases.values():
            if not p.started:
                continue
            c = p.counts
            details = {
                "vacancies": f"{c['overseas']:,} overseas; {c['published']:,} published, "
                f"{c['draft']:,} left as drafts",
                "people": f"{c['confirmed']:,} confirmed as not duplicates; job matching "
                f"consent {c['consent given']:,} given, {c['consent refused']:,} refused; "
                f"{c['migration records']:,} migration records",
            }.get(p.name)
            line = f"  {p.name:<10} {c['created']:>7,} created"
            if details and c["created"]:
                line += f" ({details})"
            if c["existing"]:
                line += f"; {c['existing']:,} already there"
            if c["skipped"]:
                line += f"; {c['skipped']:,} skipped"
            if p.seconds and p.done < p.wanted:
                line += "; no more fit the employers' sections and agencies' destinations"
            seconds = p.seconds or time.monotonic() - p.started
            lines.append(f"{line}; {seconds:.1f} s, {p.done / seconds:,.0f}/s")
        return lines


async def seed(settings: Settings, plan: Plan, say: Callable[[str], None]) -> Seeder:
    """Seed what `plan` asks for; the returned Seeder holds the counts for `summary()`."""
    limits = httpx.Limits(max_connections=plan.concurrency)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:
        seeder = Seeder(settings, plan, client, say)
        try:
            await seeder.run()
        except SeedError as exc:
            exc.done = seeder.summary()
            raise
        return seeder
