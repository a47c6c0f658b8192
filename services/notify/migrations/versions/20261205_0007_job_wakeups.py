"""Notify's job queues announce new work at commit (NOTIFY), so the delivery, webhook and partner
jobs start a pass at once instead of polling every second (issue 14: an idle system costs
almost nothing): messages, partner deliveries and partner subscriptions each notify the channel
their job listens on. One notification per inserting statement, not per row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> (channel, events); channels as services/notify/*/jobs.py listen on them.
WAKEUPS = {
    "messages": ("labourx_notify_messages", "INSERT"),
    "partner_deliveries": ("labourx_notify_webhooks", "INSERT"),
    "partner_subscriptions": ("labourx_notify_partners", "INSERT OR UPDATE"),
}


def upgrade() -> None:
    for table, (channel, events) in WAKEUPS.items():
        op.execute(
            f"""
            CREATE FUNCTION {table}_wake_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_wake_jobs AFTER {events} ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_wake_jobs()"
        )


def downgrade() -> None:
    for table in WAKEUPS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_wake_jobs ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_wake_jobs()")
