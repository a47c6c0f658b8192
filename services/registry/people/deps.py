"""The person a `/v1/people/{person_id}/...` route is about, named by id or by reference."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from services.registry.people.domain import parse_reference
from services.registry.people.records import person_by_reference
from shared.db import SessionDep
from shared.problems import InvalidField

# An id (a UUID) or a reference (`P-9MLWWRAD`, any case, the dash optional), as documented.
PERSON_ID_PATTERN = (
    "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    "|[Pp]-?[2-9A-HJ-NP-Za-hj-np-z]{8})$"
)


async def _person_id(
    session: SessionDep,
    person_id: Annotated[
        str,
        Path(
            max_length=64,
            description="The person's id, or the reference printed on their slip and SMS "
            "(`P-9MLWWRAD`, any case, the dash optional)",
            # Documented only (the dependency below says what is wrong), so that a generated
            # client or a contract fuzzer sends what this route takes.
            json_schema_extra={"pattern": PERSON_ID_PATTERN},
        ),
    ],
) -> uuid.UUID:
    try:
        return uuid.UUID(person_id)
    except ValueError:
        pass
    reference = parse_reference(person_id)
    if reference is None:
        raise InvalidField("person_id", "is neither a person's id nor a reference like P-9MLWWRAD")
    return await person_by_reference(session, reference)


# Every route about one person takes this, so a reference works wherever an id does.
PersonId = Annotated[uuid.UUID, Depends(_person_id)]
