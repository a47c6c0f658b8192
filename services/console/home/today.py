"""Today's work on the home page: three lists from two services, fetched at once; a service
that does not answer leaves its own list empty with a word why, not the whole page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from services.console.apis import matching, registry
from services.console.apis.errors import NotAllowed, TokenRefused, Unavailable

if TYPE_CHECKING:
    import uuid
    from collections.abc import Awaitable

    from services.console.apis.client import Api
    from services.console.sessions.domain import Officer

T = TypeVar("T")
LIST_SIZE = 10


@dataclass
class Section(Generic[T]):
    items: list[T] = field(default_factory=list)
    # Why the list is missing: "unavailable" (the service did not answer) or "not_allowed".
    problem: str | None = None
    more: bool = False


@dataclass(frozen=True)
class ReferralLine:
    referral: matching.Referral
    vacancy: matching.Vacancy | None


@dataclass
class TodaysWork:
    follow_up: Section[registry.PersonSummary]
    referrals: Section[ReferralLine]
    abroad: Section[registry.PersonSummary]


async def _section(call: Awaitable[tuple[list[T], bool]]) -> Section[T]:
    try:
        items, more = await call
    except TokenRefused:
        raise  # the officer must sign in again: the whole page goes to the sign-in page
    except Unavailable:
        return Section(problem="unavailable")
    except NotAllowed:
        return Section(problem="not_allowed")
    return Section(items, more=more)


async def _people(api: Api, **filters: str | None) -> tuple[list[registry.PersonSummary], bool]:
    found = await registry.search_people(api, filters=filters, limit=LIST_SIZE)
    return found.items, found.next_cursor is not None


async def _referrals(api: Api) -> tuple[list[ReferralLine], bool]:
    referrals = await matching.open_referrals(api, limit=LIST_SIZE + 1)
    more = len(referrals) > LIST_SIZE
    referrals = referrals[:LIST_SIZE]
    # Each vacancy once, all at once; a vacancy that cannot be read leaves its title out.
    ids = list(dict.fromkeys(r.vacancy_id for r in referrals))
    read = await asyncio.gather(
        *(matching.get_vacancy(api, i) for i in ids), return_exceptions=True
    )
    vacancies: dict[uuid.UUID, matching.Vacancy] = {
        i: v for i, v in zip(ids, read, strict=True) if isinstance(v, matching.Vacancy)
    }
    return [ReferralLine(r, vacancies.get(r.vacancy_id)) for r in referrals], more


async def todays_work(api: Api, officer: Officer) -> TodaysWork:
    follow_up, referrals, abroad = await asyncio.gather(
        # Jobseekers of this office still looking for work and not yet referred, newest first.
        _section(_people(api, office_code=officer.office_code, status="active")),
        _section(_referrals(api)),
        # People of this province working abroad: their return is coming at some point.
        _section(_people(api, province_code=officer.province_code, migration_status="abroad")),
    )
    return TodaysWork(follow_up, referrals, abroad)
