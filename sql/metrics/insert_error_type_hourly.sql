-- Errors (status >= 400) per hour of [range_start, range_end), endpoint, status class and error_type, per
-- organization and for every organization together (organization_id NULL); '(unspecified)' without a type.
INSERT INTO analytics_error_type_hourly (bucket_start, organization_id, endpoint, status_class, error_type, error_count)
SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       organization_id,
       coalesce(endpoint, '(none)') COLLATE "C",
       CASE WHEN status_code >= 500 THEN '5xx' ELSE '4xx' END,
       coalesce(error_type, '(unspecified)') COLLATE "C",
       count(*)
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s AND status_code >= 400
GROUP BY GROUPING SETS ((1, 2, 3, 4, 5), (1, 3, 4, 5))
