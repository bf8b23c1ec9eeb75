"""Portal sessions (issue 15): an API key pasted into the portal's sign-in form is exchanged for a
session that lives here, so the key itself never reaches a page, a URL or a cookie.

The browser holds the session's random id (a cookie); only its SHA-256 is stored, so a copy of
this table signs nobody in. A session belongs to the key that opened it: the portal reads the
key's row with the session's on every page, so a revoked or expired key ends its sessions at
once. Signing out sets ``ended_at``; rows expired more than a day ago are deleted as new
sessions are opened.

The status and SRE pages read only the rows of every organization together (``organization_id``
NULL) of the hourly SRE metrics, over up to 90 days: partial indexes on those rows keep the
per-organization rows (most of each table) out of those reads.

"""

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_portal_sessions (
            session_sha256  bytea       PRIMARY KEY CHECK (length(session_sha256) = 32),
            key_id          text        NOT NULL REFERENCES analytics_api_keys (key_id) ON DELETE CASCADE,
            created_at      timestamptz NOT NULL,
            expires_at      timestamptz NOT NULL,
            ended_at        timestamptz,
            client_address  text,
            CHECK (expires_at > created_at)
        );
        CREATE INDEX analytics_portal_sessions_key ON analytics_portal_sessions (key_id);
        CREATE INDEX analytics_portal_sessions_expires ON analytics_portal_sessions (expires_at);
        COMMENT ON TABLE analytics_portal_sessions IS
            'Portal sessions (24 h): only sha256 of the session id stored; a revoked key ends its sessions';

        CREATE INDEX analytics_endpoint_hourly_metrics_platform
            ON analytics_endpoint_hourly_metrics (bucket_start) WHERE organization_id IS NULL;
        CREATE INDEX analytics_error_type_hourly_platform
            ON analytics_error_type_hourly (bucket_start) WHERE organization_id IS NULL;
        CREATE INDEX analytics_agent_hourly_metrics_platform
            ON analytics_agent_hourly_metrics (bucket_start) WHERE organization_id IS NULL;
        CREATE INDEX analytics_agent_hourly_metrics_org
            ON analytics_agent_hourly_metrics (organization_id, bucket_start) WHERE organization_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX analytics_agent_hourly_metrics_org, analytics_agent_hourly_metrics_platform, "
               "analytics_error_type_hourly_platform, analytics_endpoint_hourly_metrics_platform")
    op.execute("DROP TABLE analytics_portal_sessions")
