"""Name lists: a withdrawal keeps who withdrew the worker, when and why, and a withdrawn worker
may be selected again (one selected entry per person and vacancy, any number withdrawn).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("name_list_entries", sa.Column("withdrawn_by", sa.String(length=100), nullable=True))
    op.add_column(
        "name_list_entries", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("name_list_entries", sa.Column("withdrawal_reason", sa.Text(), nullable=True))
    op.drop_constraint("uq_name_list_entries_vacancy_person", "name_list_entries", type_="unique")
    op.create_index(
        "uq_name_list_entries_selected",
        "name_list_entries",
        ["vacancy_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("status = 'selected'"),
    )
    op.create_index(
        "ix_name_list_entries_vacancy", "name_list_entries", ["vacancy_id", "submitted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_name_list_entries_vacancy", table_name="name_list_entries")
    op.drop_index("uq_name_list_entries_selected", table_name="name_list_entries")
    # The old constraint allows one entry per person and vacancy: keep the latest of each.
    op.execute(
        "DELETE FROM name_list_entries a USING name_list_entries b"
        " WHERE a.vacancy_id = b.vacancy_id AND a.person_id = b.person_id"
        " AND (a.submitted_at, a.id) < (b.submitted_at, b.id)"
    )
    op.create_unique_constraint(
        "uq_name_list_entries_vacancy_person", "name_list_entries", ["vacancy_id", "person_id"]
    )
    op.drop_column("name_list_entries", "withdrawal_reason")
    op.drop_column("name_list_entries", "withdrawn_at")
    op.drop_column("name_list_entries", "withdrawn_by")
