"""How the contact read model follows registry's events: details, consent per channel (those
answered at registration first), the offices serving the person, merges and erasures."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, bindparam, case, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.notify.contacts.domain import CONSENT_CHANNELS
from services.notify.contacts.models import Contact, ServingOffice
from shared.consumer import Handler, expect
from shared.consumer.direct import Direct
from shared.events.registry import (
    ConsentChanged,
    PersonDetails,
    PersonErased,
    PersonMerged,
    PersonRegistered,
    PersonServedAt,
    PersonUpdated,
)
from shared.readmodels import locked

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work

_DETAILS = (
    "reference",
    "given_name_lo",
    "given_name_en",
    "phone",
    "email",
    "preferred_language",
    "province_code",
    "office_code",
    "jobseeker",
)
_CONSENT_COLUMNS = (
    "sms_consent",
    "sms_consent_expires_on",
    "email_consent",
    "email_consent_expires_on",
)
_CONTACTS = cast("Table", Contact.__table__)
_new = pg_insert(_CONTACTS)
_DETAILS_SET = {name: _new.excluded[name] for name in _DETAILS} | {"updated_at": func.now()}
# Details only: consent and opt-out are kept from their own events, never reset by an update.
_UPSERT = _new.on_conflict_do_update(index_elements=["person_id"], set_=_DETAILS_SET)
# A registration also brings the consents answered at the counter and when it happened; a
# consent a ConsentChanged already set (a redelivered registration) is not set back.
_REGISTER = _new.on_conflict_do_update(
    index_elements=["person_id"],
    set_=_DETAILS_SET
    | {"registered_at": _new.excluded.registered_at}
    | {
        column: case(
            (_CONTACTS.c[status].is_(None), _new.excluded[column]), else_=_CONTACTS.c[column]
        )
        for status in ("sms_consent", "email_consent")
        for column in (status, f"{status}_expires_on")
    },
)

# Run on the transaction's connection (shared.consumer.direct): a registration's hot path.
_UPSERT_DIRECT = Direct(_UPSERT)
_REGISTER_DIRECT = Direct(_REGISTER)


def _set_consent(channel: str) -> Direct:
    """A channel's consent and its expiry, in one statement that also locks the contact; a
    consent as it already stands writes nothing (as the ORM wrote nothing for no change)."""
    status, expires = (
        _CONTACTS.c[f"{channel}_consent"],
        _CONTACTS.c[f"{channel}_consent_expires_on"],
    )
    new_status = bindparam("status", type_=status.type)
    new_expires = bindparam("expires", type_=expires.type)
    return Direct(
        update(_CONTACTS)
        .where(
            _CONTACTS.c.person_id == bindparam("contact", type_=_CONTACTS.c.person_id.type),
            tuple_(status, expires).is_distinct_from(tuple_(new_status, new_expires)),
        )
        .values({status: new_status, expires: new_expires, _CONTACTS.c.updated_at: func.now()})
    )


_SET_CONSENT = {channel: _set_consent(channel) for channel in ("sms", "email")}


def _details(details: PersonDetails) -> dict[str, object]:
    values = {name: getattr(details, name) for name in _DETAILS if name != "jobseeker"}
    return {"person_id": details.person_id, "jobseeker": details.jobseeker is not None} | values


async def on_person_details(work: Work, event: CloudEvent, payload: Event) -> None:
    """Keep how to reach the person as registry now has it."""
    await _UPSERT_DIRECT.execute(work.session, _details(expect(payload, PersonDetails)))


async def on_person_registered(work: Work, event: CloudEvent, payload: Event) -> None:
    """A new person: their details and the channel consents they answered at the counter, so
    the welcome that follows in this transaction knows whether it may go."""
    registered = expect(payload, PersonRegistered)
    consents: dict[str, object] = dict.fromkeys(_CONSENT_COLUMNS)
    for answer in registered.consents:
        channel = CONSENT_CHANNELS.get(answer.purpose)
        if channel is not None:
            consents[f"{channel}_consent"] = answer.status
            consents[f"{channel}_consent_expires_on"] = answer.expires_on
    await _REGISTER_DIRECT.execute(
        work.session,
        _details(registered) | consents | {"registered_at": registered.registered_at},
    )


async def on_consent_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """A channel's consent changed (messages cancel what still waits on one that closed)."""
    consent = expect(payload, ConsentChanged)
    channel = CONSENT_CHANNELS.get(consent.purpose)
    if channel is None:
        return
    await _SET_CONSENT[channel].execute(
        work.session,
        {"contact": consent.person_id, "status": consent.status, "expires": consent.expires_on},
    )


async def on_person_served_at(work: Work, event: CloudEvent, payload: Event) -> None:
    """Another province's office now serves the person: its staff may read their messages."""
    served = expect(payload, PersonServedAt)
    if await work.session.scalar(
        select(Contact.person_id).where(Contact.person_id == served.person_id)
    ):
        await work.session.execute(
            pg_insert(ServingOffice)
            .values(
                person_id=served.person_id,
                office_code=served.office_code,
                basis=served.basis,
                recorded_at=served.recorded_at,
            )
            .on_conflict_do_nothing()
        )


async def on_person_merged(work: Work, event: CloudEvent, payload: Event) -> None:
    """The duplicate leads to the survivor, so it is never messaged again; a STOP it sent still
    holds for the survivor, and the offices that served it serve the survivor."""
    merged = expect(payload, PersonMerged)
    duplicate = await locked(work.session, Contact, merged.person_id)
    if duplicate is None:
        return
    duplicate.merged_into = merged.survivor_id
    survivor = await locked(work.session, Contact, merged.survivor_id)
    if survivor is None:
        return
    if survivor.sms_opted_out_at is None:
        survivor.sms_opted_out_at = duplicate.sms_opted_out_at
    await work.session.flush()
    moved = (
        await work.session.execute(
            delete(ServingOffice)
            .where(ServingOffice.person_id == merged.person_id)
            .returning(ServingOffice.office_code, ServingOffice.basis, ServingOffice.recorded_at)
        )
    ).all()
    if moved:
        await work.session.execute(
            pg_insert(ServingOffice)
            .values(
                [
                    {
                        "person_id": merged.survivor_id,
                        "office_code": code,
                        "basis": basis,
                        "recorded_at": at,
                    }
                    for code, basis, at in moved
                ]
            )
            .on_conflict_do_nothing()
        )


async def on_person_erased(work: Work, event: CloudEvent, payload: Event) -> None:
    """Drop the contact and the offices serving the person (messages' own reaction blanks and
    cancels their messages)."""
    erased = expect(payload, PersonErased)
    await work.session.execute(delete(Contact).where(Contact.person_id == erased.person_id))


HANDLERS: dict[str, Handler] = {
    PersonRegistered.event_type(): on_person_registered,
    PersonUpdated.event_type(): on_person_details,
    PersonServedAt.event_type(): on_person_served_at,
    ConsentChanged.event_type(): on_consent_changed,
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
}
