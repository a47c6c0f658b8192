"""Registry's copy of referral states gets its own name: `referrals` belongs to matching, and
all services share one metadata of table names.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RENAMES = (
    ("referrals_pkey", "referral_states_pkey"),
    ("referrals_person_id_fkey", "referral_states_person_id_fkey"),
)


def upgrade() -> None:
    op.rename_table("referrals", "referral_states")
    for old, new in RENAMES:
        op.execute(f"ALTER TABLE referral_states RENAME CONSTRAINT {old} TO {new}")
    op.execute("ALTER INDEX ix_referrals_person_id RENAME TO ix_referral_states_person_id")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_referral_states_person_id RENAME TO ix_referrals_person_id")
    for old, new in RENAMES:
        op.execute(f"ALTER TABLE referral_states RENAME CONSTRAINT {new} TO {old}")
    op.rename_table("referral_states", "referrals")
