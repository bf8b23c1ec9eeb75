-- Peak concurrent sessions per organization and hour of [range_start, range_end). A session spans its first to
-- its last event, both included; a gap of more than {reach} without an event ends it (the same id later opens a
-- new one). The spans come from the hourly pieces within {reach} of the window, which is exact for every hour in
-- it: a span that covers an hour has, on each side, an event within {reach} of it.
-- Within an hour the sessions open at once are counted at each opening (a session ending at the moment another
-- opens overlaps it): the peak is the running maximum, peak_at its first moment.
WITH pieces AS (
    SELECT organization_id, session_id, first_event_at, last_event_at,
           lag(last_event_at) OVER (PARTITION BY organization_id, session_id ORDER BY bucket_start) AS previous_last
    FROM analytics_session_hours
    WHERE bucket_start >= %(range_start)s::timestamptz - {reach} - interval '1 hour'
      AND bucket_start < %(range_end)s::timestamptz + {reach}
), numbered AS (
    SELECT organization_id, session_id, first_event_at, last_event_at,
           count(*) FILTER (WHERE previous_last IS NULL OR first_event_at - previous_last > {reach})
               OVER (PARTITION BY organization_id, session_id ORDER BY first_event_at) AS segment
    FROM pieces
), spans AS (
    SELECT organization_id, min(first_event_at) AS opened, max(last_event_at) AS closed
    FROM numbered
    GROUP BY organization_id, session_id, segment
    HAVING min(first_event_at) < %(range_end)s AND max(last_event_at) >= %(range_start)s
), per_hour AS (  -- each span's part of each hour of the window it covers
    SELECT h.bucket_start, s.organization_id,
           greatest(s.opened, h.bucket_start) AS opened,
           least(s.closed, h.bucket_start + interval '1 hour') AS closed
    FROM spans AS s
    CROSS JOIN LATERAL generate_series(
        date_bin('1 hour', greatest(s.opened, %(range_start)s::timestamptz), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
        least(s.closed, %(range_end)s::timestamptz - interval '1 microsecond'),
        interval '1 hour') AS h (bucket_start)
), edges AS (
    SELECT bucket_start, organization_id, opened AS at, 1 AS change FROM per_hour
    UNION ALL
    SELECT bucket_start, organization_id, closed, -1 FROM per_hour
), running AS (
    SELECT bucket_start, organization_id, at, change,
           sum(change) OVER (PARTITION BY bucket_start, organization_id ORDER BY at, change DESC
                             ROWS UNBOUNDED PRECEDING) AS open_sessions
    FROM edges
)
INSERT INTO analytics_session_concurrency_hourly (bucket_start, organization_id, sessions, peak_concurrent_sessions,
                                                  peak_at)
SELECT bucket_start, organization_id,
       count(*) FILTER (WHERE change = 1),
       max(open_sessions),
       (array_agg(at ORDER BY open_sessions DESC, at))[1]
FROM running
GROUP BY bucket_start, organization_id
