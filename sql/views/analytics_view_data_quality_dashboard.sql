-- Data quality dashboard (the memo's section 4, Graham: pipeline health, freshness, anomalies): per UTC hour,
-- * pipeline health, by delivery hour (the ingest ledger): S3 objects loaded and failed; lines read, accepted,
--   duplicates, quarantined and the quarantine rate, late events, of every path (S3 objects and the live paths'
--   deliveries: ingest API batches, Firehose requests, Kinesis shard ranges, whose delivery hour is the hour they
--   arrived in), and apart the live deliveries loaded and what they accepted (live_batches_loaded, live_accepted);
-- * freshness: how long after its hour ended the hour's last S3 object was ingested (ingest_lag_minutes; a live
--   delivery arrives within its own hour), and how long after its events' hour ended the hour's rollups were
--   computed (rollup_lag_minutes);
-- * anomalies, by event hour: the organizations whose requests are more than 3 standard deviations from their
--   mean of the same hour on the 7 days before (a plain z-score; the check usage_within_normal_range adds noise
--   floors and history rules), counted on the last 35 days; and the error types sent on non-error statuses.
CREATE OR REPLACE VIEW analytics_view_data_quality_dashboard AS
WITH ingest AS (
    SELECT delivery_hour AS hour,
           count(*) FILTER (WHERE s3_object AND status = 'loaded') AS objects_loaded,
           count(*) FILTER (WHERE s3_object AND status = 'failed') AS objects_failed,
           sum(lines_read) AS lines_read, sum(accepted) AS accepted, sum(duplicates) AS duplicates,
           sum(quarantined) AS quarantined, sum(late_events) AS late_events,
           max(ingested_at) FILTER (WHERE s3_object) AS last_ingested_at,
           count(*) FILTER (WHERE NOT s3_object AND status = 'loaded') AS live_batches_loaded,
           coalesce(sum(accepted) FILTER (WHERE NOT s3_object), 0) AS live_accepted
    FROM analytics_ingested_objects, LATERAL (SELECT source = 'usage_logs' AS s3_object) AS path
    GROUP BY delivery_hour
), rollups AS (
    SELECT bucket_start AS hour, max(computed_at) AS rollups_computed_at, sum(request_count) AS requests
    FROM analytics_hourly_rollups
    GROUP BY bucket_start
), organization_hours AS (
    SELECT bucket_start, organization_id, sum(request_count) AS requests
    FROM analytics_hourly_rollups
    WHERE bucket_start >= now() - interval '35 days'
    GROUP BY bucket_start, organization_id
), scored AS (
    SELECT bucket_start, organization_id, requests,
           avg(requests) OVER same_hour AS mean, stddev_samp(requests) OVER same_hour AS stddev,
           count(*) OVER same_hour AS history
    FROM organization_hours
    WINDOW same_hour AS (PARTITION BY organization_id, extract(hour FROM bucket_start) ORDER BY bucket_start
                         RANGE BETWEEN interval '7 days' PRECEDING AND interval '1 day' PRECEDING)
), anomalies AS (
    SELECT bucket_start AS hour, count(*) FILTER (WHERE abs(requests - mean) > 3 * stddev) AS anomalous_organizations
    FROM scored
    WHERE history >= 5 AND stddev > 0
    GROUP BY bucket_start
), quality AS (
    SELECT bucket_start AS hour, sum(error_types_on_non_errors) AS error_types_on_non_errors
    FROM analytics_endpoint_hourly_metrics
    WHERE organization_id IS NULL
    GROUP BY bucket_start
)
SELECT coalesce(i.hour, r.hour) AS hour,
       coalesce(i.objects_loaded, 0) AS objects_loaded,
       coalesce(i.objects_failed, 0) AS objects_failed,
       coalesce(i.lines_read, 0) AS lines_read,
       coalesce(i.accepted, 0) AS accepted,
       coalesce(i.duplicates, 0) AS duplicates,
       coalesce(i.quarantined, 0) AS quarantined,
       round(100.0 * i.quarantined / nullif(i.lines_read, 0), 3) AS quarantine_rate_pct,
       coalesce(i.late_events, 0) AS late_events,
       round(extract(epoch FROM i.last_ingested_at - (i.hour + interval '1 hour')) / 60, 1) AS ingest_lag_minutes,
       r.requests AS rollup_requests,
       round(extract(epoch FROM r.rollups_computed_at - (r.hour + interval '1 hour')) / 60, 1) AS rollup_lag_minutes,
       a.anomalous_organizations,
       coalesce(q.error_types_on_non_errors, 0) AS error_types_on_non_errors,
       -- Added after the columns above (a view's columns can only be appended):
       coalesce(i.live_batches_loaded, 0) AS live_batches_loaded,
       coalesce(i.live_accepted, 0) AS live_accepted
FROM ingest AS i
FULL JOIN rollups AS r ON r.hour = i.hour
LEFT JOIN anomalies AS a ON a.hour = coalesce(i.hour, r.hour)
LEFT JOIN quality AS q ON q.hour = coalesce(i.hour, r.hour)
