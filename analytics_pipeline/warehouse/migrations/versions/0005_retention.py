"""Retention: the raw-event archive ledger, partition lock/drop functions, expired exports.

A row of ``analytics_raw_archives`` exists only for a day whose Parquet archive was written
*and* verified (read back from storage: sha256 of the bytes and the row count); the day's
partition is dropped only while its row count still equals the archived one.
``analytics_export_jobs`` already allowed status ``expired`` (0001); this adds when.

"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_raw_archives (
            day          date        PRIMARY KEY,
            location     text        NOT NULL,  -- the archive store's URL (ANALYTICS_ARCHIVE_URL) when written
            object_key   text        NOT NULL,
            row_count    bigint      NOT NULL CHECK (row_count >= 0),
            sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            bytes        bigint      NOT NULL CHECK (bytes > 0),
            archived_at  timestamptz NOT NULL,  -- the snapshot the rows were read in
            verified_at  timestamptz NOT NULL,
            dropped_at   timestamptz,           -- when the day's partition (and its dedupe keys) went
            CHECK (verified_at >= archived_at)
        );
        COMMENT ON TABLE analytics_raw_archives IS
            'One verified Parquet archive per raw event day (retention_job); rewritten when late events change a day';

        -- Lock a day's partition against writers and count its rows; NULL when it does not exist.
        -- Partition names are built here from the date, so callers bind a date, never an identifier.
        CREATE FUNCTION analytics_lock_event_partition(day date) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            partition_name text := format('analytics_events_p%s', to_char(day, 'YYYYMMDD'));
            found_rows bigint;
        BEGIN
            IF to_regclass(partition_name) IS NULL THEN
                RETURN NULL;
            END IF;
            EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', partition_name);
            EXECUTE format('SELECT count(*) FROM %I', partition_name) INTO found_rows;
            RETURN found_rows;
        END $$;

        -- Drop a day's partition as a whole (no row-by-row DELETE); false when it does not exist.
        CREATE FUNCTION analytics_drop_event_partition(day date) RETURNS boolean
        LANGUAGE plpgsql AS $$
        DECLARE
            partition_name text := format('analytics_events_p%s', to_char(day, 'YYYYMMDD'));
        BEGIN
            IF to_regclass(partition_name) IS NULL THEN
                RETURN false;
            END IF;
            EXECUTE format('DROP TABLE %I', partition_name);
            RETURN true;
        END $$;

        -- Dedupe keys of dropped days are deleted by event time; rows arrive roughly in time
        -- order, so a BRIN index finds a day's keys for almost no write cost at ingest.
        CREATE INDEX analytics_event_keys_time_brin ON analytics_event_keys USING brin (event_time);
        CREATE INDEX analytics_quarantine_time_brin ON analytics_quarantine USING brin (quarantined_at);

        ALTER TABLE analytics_export_jobs ADD COLUMN expired_at timestamptz;
        COMMENT ON COLUMN analytics_export_jobs.expired_at IS
            'When retention deleted the job''s files (status expired; a failed job keeps its status)';
        ALTER TABLE analytics_export_jobs
            ADD CONSTRAINT analytics_export_jobs_expired_at CHECK (status <> 'expired' OR expired_at IS NOT NULL);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE analytics_export_jobs DROP CONSTRAINT analytics_export_jobs_expired_at;
        ALTER TABLE analytics_export_jobs DROP COLUMN expired_at;
        DROP INDEX analytics_quarantine_time_brin;
        DROP INDEX analytics_event_keys_time_brin;
        DROP FUNCTION analytics_drop_event_partition(date);
        DROP FUNCTION analytics_lock_event_partition(date);
        DROP TABLE analytics_raw_archives;
        """
    )
