-- The event as stored (its day partition found by its event time).
SELECT *
FROM analytics_events
WHERE organization_id = %(organization_id)s AND request_id = %(request_id)s AND event_time = %(event_time)s
