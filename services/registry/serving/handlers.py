"""What registry does when predeparture enrols a person in a session of another province."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.registry.serving.domain import SERVING_ENROLMENTS
from services.registry.serving.service import apply_enrolment
from shared.consumer import Handler, expect
from shared.events.predeparture import EnrolmentChanged

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work


async def on_enrolment_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """Enrolled (or waitlisted) at a session of another province's office: that office serves
    the person. A cancelled place leaves the link: the office has served them, and its records
    of the person (attendance, messages) stay readable to it."""
    payload = expect(payload, EnrolmentChanged)
    if payload.status not in SERVING_ENROLMENTS:
        return
    await apply_enrolment(
        work.session,
        payload.person_id,
        payload.office_code,
        enrolled_by=payload.changed_by,
        at=payload.changed_at,
        reason=f"enrolment {payload.enrolment_id} in session {payload.session_id}",
    )


# An enrolment at another province's office makes that office serve the person.
HANDLERS: dict[str, Handler] = {EnrolmentChanged.event_type(): on_enrolment_changed}
