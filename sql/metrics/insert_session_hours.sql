-- Each session's piece of each hour of [range_start, range_end): its first and last event in the hour.
INSERT INTO analytics_session_hours (bucket_start, organization_id, session_id, first_event_at, last_event_at, events)
SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), organization_id, session_id COLLATE "C",
       min(event_time), max(event_time), count(*)
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s AND session_id IS NOT NULL
GROUP BY 1, 2, 3
