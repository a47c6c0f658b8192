"""The shared pieces that several services' lists and lifecycles use: a list's optional
filters, and the 409 a status lifecycle answers."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ColumnElement, String, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.pagination import equal_if_given
from shared.transitions import InvalidTransition


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "one_way_rows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(6))


def _sql(conditions: list[ColumnElement[bool]]) -> str:
    query = select(_Row.id).where(*conditions)
    return str(query.compile(dialect=postgresql.dialect()))


def test_a_filter_not_asked_for_adds_no_condition() -> None:
    assert equal_if_given(_Row, status=None, province_code=None) == []


def test_each_filter_given_is_an_equality_on_its_column() -> None:
    sql = _sql(equal_if_given(_Row, status="open", province_code=None))
    assert "one_way_rows.status = %(status_1)s" in sql
    assert "province_code" not in sql.split("WHERE", 1)[1]


class _Status(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class _Refused(InvalidTransition):
    record = "a thing"


def test_an_invalid_transition_names_the_statuses_now_asked_and_allowed() -> None:
    refused = _Refused(
        _Status.DRAFT, _Status.CLOSED, frozenset({_Status.PUBLISHED, _Status.CLOSED})
    )
    assert refused.status == 409
    assert refused.slug == "invalid-transition"
    assert refused.detail == "a thing that is draft cannot become closed"
    assert refused.extensions == {
        "current_status": "draft",
        "requested_status": "closed",
        "allowed": ["closed", "published"],
    }
