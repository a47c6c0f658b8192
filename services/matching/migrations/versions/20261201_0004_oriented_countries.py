"""Candidates carry the destinations they hold an orientation for, and retrieval keys for them
(`r:TH`) and for the languages they speak (`l:ko`), so that ranking searches the few people
ready for an overseas job, or speaking its language, first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "candidates",
        sa.Column(
            "oriented_countries",
            postgresql.ARRAY(sa.String(length=2)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.execute(
        """
        UPDATE candidates c
        SET oriented_countries = o.countries
        FROM (
            SELECT person_id, array_agg(destination_country ORDER BY destination_country)
                AS countries
            FROM candidate_orientations GROUP BY person_id
        ) o
        WHERE o.person_id = c.person_id
        """
    )
    # The keys the read model now writes (candidates/domain.py `match_keys`), for rows already
    # held: active records only, Lao left out as everyone speaks it.
    op.execute(
        """
        UPDATE candidates
        SET match_keys = ARRAY(
            SELECT DISTINCT k FROM unnest(
                match_keys
                || ARRAY(SELECT 'r:' || x FROM unnest(oriented_countries) x)::varchar[]
                || ARRAY(SELECT 'l:' || x FROM unnest(languages) x WHERE x <> 'lo')::varchar[]
            ) k ORDER BY k
        )
        WHERE record_status = 'active'
          AND (oriented_countries <> '{}' OR languages <> '{lo}' AND languages <> '{}')
        """
    )


def downgrade() -> None:
    op.execute(
        "UPDATE candidates SET match_keys = ARRAY(SELECT k FROM unnest(match_keys) k"
        " WHERE k NOT LIKE 'r:%' AND k NOT LIKE 'l:%' ORDER BY k)"
    )
    op.drop_column("candidates", "oriented_countries")
