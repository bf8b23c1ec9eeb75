"""Initial warehouse schema: raw events, quarantine, ingest ledger, rollups, export jobs, prices.

Revises:
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    # Raw events, declaratively range-partitioned by event time into daily partitions that
    # analytics_ensure_event_partition() creates on demand. Uniqueness per
    # (organization_id, request_id) cannot be a constraint of a partitioned table (it would
    # have to include event_time), so analytics_event_keys carries it.
    op.execute(
        """
        CREATE TABLE analytics_ingested_objects (
            object_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source           text        NOT NULL DEFAULT 'usage_logs',
            object_key       text        NOT NULL,
            etag             text        NOT NULL,
            size_bytes       bigint      NOT NULL,
            last_modified    timestamptz,
            delivery_hour    timestamptz NOT NULL,
            format           text,
            status           text        NOT NULL CHECK (status IN ('loaded', 'failed')),
            failure_reason   text,
            damage           text,
            lines_read       bigint      NOT NULL DEFAULT 0,
            accepted         bigint      NOT NULL DEFAULT 0,
            duplicates       bigint      NOT NULL DEFAULT 0,
            quarantined      bigint      NOT NULL DEFAULT 0,
            late_events      bigint      NOT NULL DEFAULT 0,
            min_event_time   timestamptz,
            max_event_time   timestamptz,
            event_hours      timestamptz[] NOT NULL DEFAULT '{}',
            run_id           text,
            ingested_at      timestamptz NOT NULL DEFAULT now(),
            UNIQUE (source, object_key, etag),
            CONSTRAINT lines_add_up CHECK (lines_read = accepted + duplicates + quarantined)
        );
        CREATE INDEX analytics_ingested_objects_delivery_hour ON analytics_ingested_objects (delivery_hour);

        CREATE TABLE analytics_events (
            event_time       timestamptz NOT NULL,
            organization_id  text        NOT NULL,
            request_id       text        NOT NULL,
            endpoint         text,
            method           text,
            status_code      smallint,
            duration_ms      double precision,
            tokens_consumed  bigint,
            tokens_input     bigint,
            tokens_output    bigint,
            model_id         text,
            event_type       text,
            agent_type       text,
            tool_name        text,
            queue_wait_ms    double precision,
            session_id       text,
            level            text,
            message          text,
            attributes       jsonb,
            content_hash     text        NOT NULL,
            object_id        bigint      NOT NULL
        ) PARTITION BY RANGE (event_time);
        CREATE INDEX analytics_events_org_time ON analytics_events (organization_id, event_time);
        CREATE INDEX analytics_events_time_brin ON analytics_events USING brin (event_time);

        -- The key is an MD5 UUID of (organization_id, US, request_id): a 16-byte B-tree entry
        -- claims ids about twice as fast as a composite text key (benchmarks/ingest.py).
        CREATE TABLE analytics_event_keys (
            event_key        uuid        PRIMARY KEY,
            organization_id  text        NOT NULL,
            request_id       text        NOT NULL,
            content_hash     text        NOT NULL,
            event_time       timestamptz NOT NULL,
            object_id        bigint      NOT NULL,
            line_number      bigint      NOT NULL
        );
        CREATE FUNCTION analytics_event_key(organization_id text, request_id text) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN md5(organization_id || chr(31) || request_id)::uuid;

        CREATE FUNCTION analytics_ensure_event_partition(day date) RETURNS text
        LANGUAGE plpgsql AS $$
        DECLARE
            partition_name text := format('analytics_events_p%s', to_char(day, 'YYYYMMDD'));
        BEGIN
            IF to_regclass(partition_name) IS NULL THEN
                -- Serialise creators of the same day; the check is repeated under the lock.
                PERFORM pg_advisory_xact_lock(hashtext(partition_name));
                IF to_regclass(partition_name) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
                        partition_name, day::timestamp AT TIME ZONE 'UTC',
                        (day + 1)::timestamp AT TIME ZONE 'UTC');
                END IF;
            END IF;
            RETURN partition_name;
        END $$;

        CREATE TABLE analytics_quarantine (
            quarantine_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            object_id        bigint      NOT NULL REFERENCES analytics_ingested_objects (object_id),
            object_key       text        NOT NULL,
            line_number      bigint,
            reason           text        NOT NULL,
            detail           text,
            raw_text         text,
            raw_sha256       text,
            raw_size_bytes   bigint,
            quarantined_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX analytics_quarantine_object ON analytics_quarantine (object_id);
        CREATE INDEX analytics_quarantine_reason_time ON analytics_quarantine (reason, quarantined_at);

        CREATE TABLE analytics_model_prices (
            model_id                    text        NOT NULL,
            effective_from              timestamptz NOT NULL,
            price_per_request           numeric     NOT NULL CHECK (price_per_request >= 0),
            price_per_1k_input_tokens   numeric     NOT NULL CHECK (price_per_1k_input_tokens >= 0),
            price_per_1k_output_tokens  numeric     NOT NULL CHECK (price_per_1k_output_tokens >= 0),
            PRIMARY KEY (model_id, effective_from)
        );

        CREATE TABLE analytics_hourly_rollups (
            bucket_start        timestamptz NOT NULL,
            organization_id     text        NOT NULL,
            model_id            text,
            request_count       bigint      NOT NULL,
            tokens_input        bigint      NOT NULL,
            tokens_output       bigint      NOT NULL,
            tokens_total        bigint      NOT NULL,
            error_count         bigint      NOT NULL,
            client_error_count  bigint      NOT NULL,
            server_error_count  bigint      NOT NULL,
            cost_total          numeric     NOT NULL,
            latency_p50_ms      double precision,
            latency_p95_ms      double precision,
            latency_p99_ms      double precision,
            computed_at         timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX analytics_hourly_rollups_key
            ON analytics_hourly_rollups (bucket_start, organization_id, coalesce(model_id, ''));
        CREATE INDEX analytics_hourly_rollups_org ON analytics_hourly_rollups (organization_id, bucket_start);

        CREATE TABLE analytics_daily_rollups (LIKE analytics_hourly_rollups INCLUDING DEFAULTS);
        CREATE UNIQUE INDEX analytics_daily_rollups_key
            ON analytics_daily_rollups (bucket_start, organization_id, coalesce(model_id, ''));
        CREATE INDEX analytics_daily_rollups_org ON analytics_daily_rollups (organization_id, bucket_start);

        CREATE TABLE analytics_export_jobs (
            job_id          uuid        PRIMARY KEY,
            organization_id text,
            range_start     timestamptz NOT NULL,
            range_end       timestamptz NOT NULL,
            granularity     text        NOT NULL CHECK (granularity IN ('hourly', 'daily', 'monthly')),
            by_model        boolean     NOT NULL DEFAULT true,
            status          text        NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'expired')),
            created_at      timestamptz NOT NULL DEFAULT now(),
            started_at      timestamptz,
            completed_at    timestamptz,
            output_key      text,
            output_uri      text,
            checksum        text,
            row_count       bigint,
            initiated_by    text,
            error           text,
            run_id          text,
            CHECK (range_end > range_start)
        );
        CREATE INDEX analytics_export_jobs_org ON analytics_export_jobs (organization_id, created_at);
        CREATE INDEX analytics_export_jobs_status ON analytics_export_jobs (status, created_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE analytics_export_jobs;
        DROP TABLE analytics_daily_rollups;
        DROP TABLE analytics_hourly_rollups;
        DROP TABLE analytics_model_prices;
        DROP TABLE analytics_quarantine;
        DROP FUNCTION analytics_ensure_event_partition(date);
        DROP TABLE analytics_event_keys;
        DROP FUNCTION analytics_event_key(text, text);
        DROP TABLE analytics_events;
        DROP TABLE analytics_ingested_objects;
        """
    )
