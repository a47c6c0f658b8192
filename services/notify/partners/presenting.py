"""How a feed entry reaches one partner: as its subscription's scope and the person's
partner-sharing consent allow, as a CloudEvents document."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from services.notify.partners import pseudonyms, redaction, sharing_rules, streams
from services.notify.partners.models import FeedEntry, Partner, SharingConsent
from services.notify.partners.scopes import Scope
from services.notify.partners.sharing_rules import SharingDecision
from services.notify.partners.streams import EntryKind
from shared.events.base import CATALOGUE

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable, Mapping
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings


def master_key(settings: Settings) -> bytes:
    """The key every partner's pseudonym key is derived from: LABOURX_PARTNER_PSEUDONYM_KEY,
    a key of its own (webhook secrets have theirs: signatures.current_secret)."""
    return settings.purpose_key("partner_pseudonym_key")


@dataclass(frozen=True)
class PartnerRef:
    """What presenting an entry needs to know of a partner."""

    id: uuid.UUID
    code: str
    category: str
    key: bytes

    @classmethod
    def of(cls, partner: Partner, master: bytes) -> PartnerRef:
        return cls(
            partner.id, partner.code, partner.category, pseudonyms.partner_key(master, partner.id)
        )


def subject_field(event_type: str) -> str | None:
    spec = CATALOGUE.get(event_type)
    return spec.model.subject_field if spec is not None else None


# --- consent --------------------------------------------------------------------------------


async def decisions_of(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, SharingDecision]]:
    """Each person's partner-sharing decisions, by scope key."""
    ids = list(set(person_ids))
    found: dict[uuid.UUID, dict[str, SharingDecision]] = defaultdict(dict)
    if not ids:
        return found
    rows = await session.execute(select(SharingConsent).where(SharingConsent.person_id.in_(ids)))
    for consent in rows.scalars():
        found[consent.person_id][consent.scope_key] = SharingDecision(
            consent.status, consent.expires_on, swept=consent.lapsed_swept_at is not None
        )
    return found


def shares_person(
    partner: PartnerRef,
    person_id: uuid.UUID | None,
    decisions: Mapping[uuid.UUID, Mapping[str, SharingDecision]],
    today: date,
) -> bool:
    """Whether the person's partner-sharing consent lets this partner see them at person level."""
    if person_id is None:
        return False
    return sharing_rules.may_share(
        decisions.get(person_id, {}), partner.code, partner.category, today
    )


# --- presenting -----------------------------------------------------------------------------


def present(
    entry: FeedEntry,
    partner: PartnerRef,
    scope: Scope,
    decisions: Mapping[uuid.UUID, Mapping[str, SharingDecision]],
    today: date,
) -> dict[str, Any] | None:
    """The entry as this partner may see it (a CloudEvents document); None: not for it."""
    item = pseudonyms.item_id(partner.key, entry.id)
    kind = EntryKind(entry.kind)
    if kind is EntryKind.REMOVAL:
        if scope is Scope.AGGREGATE:
            return None  # it never held anything about the person
        personal = scope is Scope.PERSONAL and str(partner.id) in entry.data.get(
            "personal_partner_ids", []
        )
        data = redaction.removal_data(entry.data, partner.key, personal)
        return streams.partner_event(
            item=item,
            stream=entry.stream,
            kind=kind,
            event_type=entry.event_type,
            subject=data["person_pseudonym"],
            time=entry.time,
            scope=Scope.PERSONAL if personal else Scope.PSEUDONYMISED,
            data=data,
        )
    effective = scope
    if entry.erased_at is not None:
        effective = Scope.AGGREGATE
    elif (
        scope is not Scope.AGGREGATE
        and "person_id" in entry.data
        and not shares_person(partner, entry.person_id, decisions, today)
    ):
        # No consent covers this partner: counts only, whatever the subscription's scope.
        effective = Scope.AGGREGATE
    return streams.partner_event(
        item=item,
        stream=entry.stream,
        kind=kind,
        event_type=entry.event_type,
        subject=redaction.redact_subject(
            subject_field(entry.event_type), entry.subject, effective, partner.key
        ),
        time=entry.time,
        scope=effective,
        data=redaction.redact(entry.data, effective, partner.key, entry.time.date()),
        dataschema=entry.dataschema,
    )


def body_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
