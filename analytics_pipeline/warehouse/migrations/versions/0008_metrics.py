"""Business, customer and SRE metrics (issue 14): end users and error types on the events.

``analytics_events`` gains two nullable columns, ``user_id`` (the tenant's end user, bytewise
collation like the other identifiers of 0006) and ``error_type``. Adding a nullable column
without a default to the partitioned table is a catalog change only: no partition is
rewritten or scanned, whatever the warehouse's size, and existing rows read NULL. It still
takes a brief ACCESS EXCLUSIVE lock on the table and each partition, so it waits for an
ingest transaction in progress (and holds up the next one for that moment) rather than
running alongside it.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE analytics_events
            ADD COLUMN user_id text COLLATE "C",
            ADD COLUMN error_type text;
        COMMENT ON COLUMN analytics_events.user_id IS
            'The tenant''s end user who made the request (event field user_id); NULL when the event names none';
        COMMENT ON COLUMN analytics_events.error_type IS
            'Why the request failed (event field error_type); stored whatever the status, counted for status >= 400';
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE analytics_events DROP COLUMN error_type, DROP COLUMN user_id")
