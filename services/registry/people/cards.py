"""Identity cards: what an officer is shown of a person they may not open, and the audit of it.

An exact lookup (reference, phone, document number) and a duplicate warning can name a person
of another province: the officer needs to recognise them, not to read their record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.offices.service import office_info
from services.registry.people.schemas import CardAction, PersonCard, PersonIdentity
from shared.reference.offices import office_name
from shared.reference.places import province_name

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

# What a card shows, named in the audit entry of its showing: who the person is (as every view
# of a person starts, but the internal id) and the registering office.
SHOWN = (*(f for f in PersonIdentity.model_fields if f != "id"), "office_code")


def actions(person_id: uuid.UUID, *, outside_scope: bool) -> list[CardAction]:
    """What the officer can do next: open a record in their scope; for one outside it, serve
    the person here (a visit) or take the record over (the person moved)."""
    path = f"/v1/people/{person_id}"
    if not outside_scope:
        return [CardAction(action="open", method="GET", href=path, description="Open the record")]
    return [
        CardAction(
            action="record_visit",
            method="POST",
            href=f"{path}/visits",
            description="This is them, here for a service: your office serves them from now "
            "on (send a reason)",
        ),
        CardAction(
            action="take_over",
            method="POST",
            href=f"{path}/transfer",
            description="This is them, and they moved: the record moves to your office and "
            "province (send a reason)",
        ),
    ]


async def card(session: AsyncSession, row: Mapping[str, Any], *, outside_scope: bool) -> PersonCard:
    """The card of the person in `row` (a people row or a mapping with its columns)."""
    office = row["office_code"]
    found = await office_info(session, office) if office else None
    return PersonCard(
        id=row["id"],
        reference=row["reference"],
        given_name_lo=row["given_name_lo"],
        family_name_lo=row["family_name_lo"],
        given_name_en=row["given_name_en"],
        family_name_en=row["family_name_en"],
        sex=row["sex"],
        date_of_birth=row["date_of_birth"],
        province_code=row["province_code"],
        province_name_lo=province_name(row["province_code"], "lo"),
        province_name_en=province_name(row["province_code"], "en"),
        office_code=office,
        office_name_lo=found.name_lo if found else (office_name(office, "lo") or None),
        office_name_en=found.name_en if found else (office_name(office, "en") or None),
        outside_scope=outside_scope,
        actions=actions(row["id"], outside_scope=outside_scope),
    )


async def record_shown(
    session: AsyncSession, principal: Principal, cards: Sequence[PersonCard], *, reason: str
) -> None:
    """Audit the cards of people outside the officer's scope as shown (those in scope were
    listed like any search result)."""
    await audit.record(
        session,
        principal,
        Action.CARD_SHOWN,
        [c.id for c in cards if c.outside_scope],
        fields=SHOWN,
        reason=reason,
        basis="card",
    )
