"""Per-endpoint performance rollups for SRE.

"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_endpoint_daily_rollups (
            bucket_start          timestamptz NOT NULL,
            organization_id       text        NOT NULL,
            endpoint              text        NOT NULL,  -- '(none)' for events without an endpoint
            request_count         bigint      NOT NULL,
            error_count           bigint      NOT NULL,
            client_error_count    bigint      NOT NULL,
            server_error_count    bigint      NOT NULL,
            rate_limited_count    bigint      NOT NULL,  -- status 429
            latency_p50_ms        double precision,
            latency_p95_ms        double precision,
            latency_p99_ms        double precision,
            queue_wait_avg_ms     double precision,
            queue_wait_p95_ms     double precision,
            computed_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (bucket_start, organization_id, endpoint)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE analytics_endpoint_daily_rollups")
