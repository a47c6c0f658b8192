"""Rate-limit counters shared by every replica (shared/ratelimit.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-16
"""

from shared.migrations import create_rate_limit_table, drop_rate_limit_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_rate_limit_table()


def downgrade() -> None:
    drop_rate_limit_table()
