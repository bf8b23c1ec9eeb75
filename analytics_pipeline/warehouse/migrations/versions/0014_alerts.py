"""Platform alerts, their deliveries, and the platform's own system-health metrics (issue 21).

* ``analytics_alerts``: one row per dedup key (rule and what it judges, e.g. an endpoint), its
  lifecycle (``pending`` while a condition waits out its hold time, ``firing``, ``acknowledged``,
  ``resolved``) and when it last notified;
* ``analytics_alert_history``: every transition and notification, append-only;
* ``analytics_alert_outbox``: one row per notification to one receiver (PagerDuty, Slack), sent by
  the dispatcher with retries and exponential backoff and marked delivered in the transaction that
  claimed it, so a receiver outage delays notifications and never loses or repeats them;
* ``analytics_metric_stream_objects``: the ledger of CloudWatch Metric Streams objects loaded
  (exactly once per key and etag, every line accounted for: a datapoint, a duplicate of one
  already stored, or rejected with its reason, counted in ``rejections`` with a sample of each);
* ``analytics_service_minute_metrics``: their datapoints per minute, namespace, service and metric.

"""

from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_alerts (
            dedup_key         text        PRIMARY KEY,
            rule              text        NOT NULL,
            severity          text        NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
            status            text        NOT NULL
                CHECK (status IN ('pending', 'firing', 'acknowledged', 'resolved')),
            subject           text,
            summary           text        NOT NULL,
            details           jsonb       NOT NULL DEFAULT '{}',
            first_seen_at     timestamptz NOT NULL,
            last_seen_at      timestamptz NOT NULL,
            fired_at          timestamptz,
            last_notified_at  timestamptz,
            clear_since       timestamptz,
            acknowledged_at   timestamptz,
            acknowledged_by   text,
            resolved_at       timestamptz,
            updated_at        timestamptz NOT NULL
        );
        CREATE INDEX analytics_alerts_open ON analytics_alerts (severity, fired_at)
            WHERE status IN ('firing', 'acknowledged');
        CREATE TABLE analytics_alert_history (
            history_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            dedup_key    text        NOT NULL,
            rule         text        NOT NULL,
            severity     text        NOT NULL,
            event        text        NOT NULL
                CHECK (event IN ('fired', 'renotified', 'acknowledged', 'resolved', 'notice')),
            summary      text        NOT NULL,
            details      jsonb       NOT NULL DEFAULT '{}',
            at           timestamptz NOT NULL
        );
        CREATE INDEX analytics_alert_history_key ON analytics_alert_history (dedup_key, at);
        CREATE TABLE analytics_alert_outbox (
            outbox_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            history_id       bigint      NOT NULL REFERENCES analytics_alert_history (history_id),
            route            text        NOT NULL CHECK (route IN ('pagerduty', 'slack')),
            dedup_key        text        NOT NULL,
            action           text        NOT NULL CHECK (action IN ('trigger', 'resolve')),
            payload          jsonb       NOT NULL,
            created_at       timestamptz NOT NULL,
            attempts         integer     NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL,
            last_error       text,
            last_status      integer,
            delivered_at     timestamptz,
            given_up_at      timestamptz,
            UNIQUE (history_id, route)
        );
        CREATE INDEX analytics_alert_outbox_due ON analytics_alert_outbox (next_attempt_at, outbox_id)
            WHERE delivered_at IS NULL AND given_up_at IS NULL;
        CREATE TABLE analytics_metric_stream_objects (
            object_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            object_key     text        NOT NULL,
            etag           text        NOT NULL,
            delivery_hour  timestamptz NOT NULL,
            lines_read     bigint      NOT NULL DEFAULT 0,
            datapoints     bigint      NOT NULL DEFAULT 0,
            duplicates     bigint      NOT NULL DEFAULT 0,
            rejected       bigint      NOT NULL DEFAULT 0,
            rejections     jsonb       NOT NULL DEFAULT '{}',
            ingested_at    timestamptz NOT NULL,
            UNIQUE (object_key, etag),
            CONSTRAINT metric_stream_lines_add_up CHECK (lines_read = datapoints + duplicates + rejected)
        );
        CREATE INDEX analytics_metric_stream_objects_hour ON analytics_metric_stream_objects (delivery_hour);
        CREATE TABLE analytics_service_minute_metrics (
            minute       timestamptz      NOT NULL,
            namespace    text             NOT NULL,
            service      text             NOT NULL,
            metric_name  text             NOT NULL,
            unit         text,
            sample_max   double precision NOT NULL,
            sample_min   double precision NOT NULL,
            sample_sum   double precision NOT NULL,
            sample_count double precision NOT NULL,
            account_id   text,
            region       text,
            object_id    bigint           NOT NULL REFERENCES analytics_metric_stream_objects (object_id),
            PRIMARY KEY (minute, namespace, service, metric_name)
        );
        CREATE INDEX analytics_service_minute_metrics_service
            ON analytics_service_minute_metrics (namespace, service, metric_name, minute);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE analytics_service_minute_metrics;
        DROP TABLE analytics_metric_stream_objects;
        DROP TABLE analytics_alert_outbox;
        DROP TABLE analytics_alert_history;
        DROP TABLE analytics_alerts;
        """
    )
