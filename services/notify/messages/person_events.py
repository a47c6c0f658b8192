"""How messages follow registry's merge and erasure of a person.

The duplicate's messages still waiting are cancelled: it is never messaged again, and what is
queued from now on goes to the survivor, whose contact the duplicate's leads to. An erased
person's messages are cancelled and blanked (the rows stay, for counts) and the sessions they
held a place in forgotten. Notify's app.py runs these after the contact read model's own
reaction, in the same transaction as the event's inbox row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, update

from services.notify.contacts.domain import CHANNELS
from services.notify.messages.models import KnownEnrolment, Message
from services.notify.messages.service import cancel_queued
from shared.readmodels import person_reactions

if TYPE_CHECKING:
    from shared.consumer import Handler
    from shared.events.registry import PersonErased, PersonMerged
    from shared.work import Work


async def _merged(work: Work, merge: PersonMerged) -> None:
    await cancel_queued(work.session, merge.person_id, CHANNELS, "merged into another record")


async def _erased(work: Work, erasure: PersonErased) -> None:
    await cancel_queued(work.session, erasure.person_id, CHANNELS, "person erased")
    await work.session.execute(
        delete(KnownEnrolment).where(KnownEnrolment.person_id == erasure.person_id)
    )
    await work.session.execute(
        update(Message)
        .where(Message.person_id == erasure.person_id)
        .values(recipient="", subject=None, body="")
        .execution_options(synchronize_session=False)
    )


HANDLERS: dict[str, Handler] = person_reactions(merged=_merged, erased=_erased)
