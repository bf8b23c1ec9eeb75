"""CI build telemetry: run files, their quarantine and trends (issue 7).

Run files share the ingest ledger (``analytics_ingested_objects`` with source
``build_metrics``) and the quarantine (``analytics_quarantine``, one row per rejected file,
``line_number`` NULL) with the usage logs; this migration adds the runs themselves and their
daily duration trends.

"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_ci_runs (
            run_id             text        PRIMARY KEY,
            service            text        NOT NULL,
            command            text        NOT NULL,
            status             text        NOT NULL,
            started_at         timestamptz NOT NULL,
            finished_at        timestamptz NOT NULL,
            duration_seconds   double precision NOT NULL CHECK (duration_seconds >= 0),
            commit_sha         text        NOT NULL,
            actor              text,
            actor_hash         text,
            environment        text,
            collector_version  text,
            attributes         jsonb,
            content_hash       text        NOT NULL,
            file_date          date        NOT NULL,
            object_id          bigint      NOT NULL REFERENCES analytics_ingested_objects (object_id),
            loaded_at          timestamptz NOT NULL DEFAULT now(),
            CHECK (finished_at >= started_at),
            CHECK ((actor IS NULL) = (actor_hash IS NULL))
        );
        COMMENT ON COLUMN analytics_ci_runs.actor IS
            'Personal data (an email): never export it or show it in aggregates; use actor_hash';
        COMMENT ON COLUMN analytics_ci_runs.actor_hash IS
            'First 16 hex characters of sha256(lower(actor))';
        COMMENT ON COLUMN analytics_ci_runs.file_date IS
            'The day in the run file''s key (metrics/YYYY/MM/DD/): the partition of ci_build_runs';
        CREATE INDEX analytics_ci_runs_file_date ON analytics_ci_runs (file_date);
        CREATE INDEX analytics_ci_runs_history ON analytics_ci_runs (service, command, started_at)
            WHERE status = 'success';

        -- Everything but the actor's email, for dashboards, exports and ad hoc queries.
        CREATE VIEW analytics_ci_runs_redacted AS
        SELECT run_id, service, command, status, started_at, finished_at, duration_seconds, commit_sha,
               actor_hash, environment, collector_version, attributes, file_date, object_id, loaded_at
        FROM analytics_ci_runs;

        CREATE TABLE analytics_ci_duration_trends (
            day                   date        NOT NULL,
            service               text        NOT NULL,
            command               text        NOT NULL,
            runs                  bigint      NOT NULL,
            successful_runs       bigint      NOT NULL,
            success_rate          double precision NOT NULL,
            duration_p50_seconds  double precision,
            duration_p95_seconds  double precision,
            duration_max_seconds  double precision,
            commits               bigint      NOT NULL,
            computed_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, service, command)
        );
        COMMENT ON TABLE analytics_ci_duration_trends IS
            'Per day (of the run files), service and command; durations are of successful runs only';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE analytics_ci_duration_trends;
        DROP VIEW analytics_ci_runs_redacted;
        DROP TABLE analytics_ci_runs;
        """
    )
