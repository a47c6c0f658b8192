"""Before a person is registered: a known identity document refused (409), and probable
duplicates shown as cards the officer decides on (409 until they confirm it is not them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.duplicates import service as duplicates
from services.registry.duplicates.domain import Applicant
from services.registry.people import cards
from services.registry.scope import sees_province, served_among
from shared.problems import Conflict
from shared.reference.names import PersonName

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.duplicates.service import Candidate
    from services.registry.people.models import Person
    from services.registry.people.schemas import (
        IdentityDocumentIn,
        PersonCard,
        PersonCreate,
        PersonFields,
    )
    from shared.auth import Principal


class DocumentAlreadyRegistered(Conflict):
    slug, title = "duplicate-document", "Identity document already registered"


class ProbableDuplicate(Conflict):
    """Registered people look like this one: each candidate with its card, and the decisions.

    `cards` are kept on the exception so that whoever answers the warning audits them as
    shown (the registration itself is not written).
    """

    slug, title = "probable-duplicate", "Probable duplicate"

    def __init__(self, detail: str, cards: list[PersonCard], **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.cards = cards


def _name(fields: PersonFields | Person) -> PersonName:
    return PersonName(
        fields.given_name_lo, fields.family_name_lo, fields.given_name_en, fields.family_name_en
    )


def _document_keys(documents: list[IdentityDocumentIn]) -> list[tuple[str, str, str]]:
    return [(d.kind, d.country, d.number) for d in documents]


async def refuse_known_documents(
    session: AsyncSession, documents: list[IdentityDocumentIn], exclude: uuid.UUID | None = None
) -> None:
    owner = await duplicates.document_owner(session, _document_keys(documents), exclude=exclude)
    if owner is not None:
        person_id, kind, number = owner
        raise DocumentAlreadyRegistered(
            f"{kind} {number} belongs to a registered person",
            existing_id=str(person_id),
            field="documents",
        )


async def check_duplicates(session: AsyncSession, data: PersonCreate) -> list[Candidate]:
    """409 on a known document; otherwise the probable duplicates of this registration."""
    await refuse_known_documents(session, data.documents)
    applicant = Applicant(_name(data), data.date_of_birth, data.phone)
    return await duplicates.probable_duplicates(session, applicant)


NOT_THEM = (
    "not them: send the registration again with confirm_not_duplicate=true; the decision and "
    "these candidates are recorded with the new person"
)


async def candidate_cards(
    session: AsyncSession, candidates: list[Candidate], principal: Principal
) -> list[PersonCard]:
    """Each candidate's card, marked outside the scope when the officer may not open it."""
    served = await served_among(session, principal, [c.person["id"] for c in candidates])
    return [
        await cards.card(
            session,
            c.person,
            outside_scope=not (
                c.person["id"] in served or sees_province(principal, c.person["province_code"])
            ),
        )
        for c in candidates
    ]


async def duplicate_warning(
    session: AsyncSession, candidates: list[Candidate], principal: Principal
) -> ProbableDuplicate:
    """The 409 of a registration that looks like registered people, with what is needed to
    decide: the candidates' cards (names, birth date, registering office), and the decisions
    (a card outside the officer's scope offers a visit here or taking the record over)."""
    shown = await candidate_cards(session, candidates, principal)
    count = (
        "1 registered person looks"
        if len(candidates) == 1
        else f"{len(candidates)} registered people look"
    )
    return ProbableDuplicate(
        f"{count} like this person; check the cards: if one is them, use its actions; if "
        "not, send confirm_not_duplicate=true",
        cards=shown,
        candidates=[
            {**c.summary, "card": card.model_dump(mode="json")}
            for c, card in zip(candidates, shown, strict=True)
        ],
        decisions={
            "this_is_them": "use the candidate card's actions: open (in your scope), "
            "record_visit or take_over (outside it)",
            "not_them": NOT_THEM,
        },
    )


async def record_warning(
    session: AsyncSession, principal: Principal, warning: ProbableDuplicate
) -> None:
    """Audit what a duplicate warning showed: cards outside the scope as shown, others listed."""
    await cards.record_shown(session, principal, warning.cards, reason="duplicate warning")
    await audit.record(
        session,
        principal,
        Action.LISTED,
        [c.id for c in warning.cards if not c.outside_scope],
        reason="duplicate warning",
    )
