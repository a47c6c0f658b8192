"""Rate-limit counters shared by every replica (shared/ratelimit.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16
"""

from shared.migrations import create_rate_limit_table, drop_rate_limit_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_rate_limit_table()


def downgrade() -> None:
    drop_rate_limit_table()
