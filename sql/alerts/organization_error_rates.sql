-- Per organization with requests in [window_start, window_end): its requests and 5xx answers there
-- (raw events), beside its baseline, the same counts over [baseline_start, window_start) from its rows of
-- the hourly SRE metrics (whole hours; cheap to read every evaluation).
WITH recent AS (
    SELECT organization_id, count(*) AS requests, count(*) FILTER (WHERE status_code >= 500) AS server_errors
    FROM analytics_events
    WHERE event_time >= %(window_start)s AND event_time < %(window_end)s
    GROUP BY organization_id
), baseline AS (
    SELECT organization_id, sum(request_count) AS requests, sum(status_5xx) AS server_errors
    FROM analytics_endpoint_hourly_metrics
    WHERE organization_id IS NOT NULL
      AND bucket_start >= %(baseline_start)s AND bucket_start + interval '1 hour' <= %(window_start)s
    GROUP BY organization_id
)
SELECT r.organization_id, r.requests, r.server_errors,
       coalesce(b.requests, 0)::bigint AS baseline_requests, coalesce(b.server_errors, 0)::bigint AS baseline_errors
FROM recent AS r
LEFT JOIN baseline AS b USING (organization_id)
ORDER BY r.organization_id
