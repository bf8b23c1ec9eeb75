"""The ingest ledger per event hour: how many events each object added to each hour.

``analytics_ingested_event_hours`` gets one row per (event hour, object) as the loader inserts
the object's events, in the same statement. The restatement sensor then knows from the
warehouse alone which hourly rollups lag their events: an hour whose rollups count fewer (or
more) requests than its ledger rows add up to. Events are only ever added (retention drops whole
days, and keeps both the rollups and these rows), so the two sums are equal exactly when the
hour's rollups saw every event.

The upgrade fills the table from the events already stored: one pass over ``analytics_events``
(minutes on a large warehouse; like 0006, apply it with ``analytics-pipeline db upgrade`` in a
quiet hour rather than on first use).

"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_ingested_event_hours (
            event_hour  timestamptz NOT NULL
                CHECK (event_hour = date_bin('1 hour', event_hour, TIMESTAMPTZ '2000-01-01 00:00:00+00')),
            object_id   bigint      NOT NULL REFERENCES analytics_ingested_objects (object_id),
            events      integer     NOT NULL CHECK (events > 0),
            PRIMARY KEY (event_hour, object_id)
        );
        INSERT INTO analytics_ingested_event_hours (event_hour, object_id, events)
        SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), object_id, count(*)
        FROM analytics_events
        GROUP BY 1, 2;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE analytics_ingested_event_hours")
