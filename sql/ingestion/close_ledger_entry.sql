UPDATE analytics_ingested_objects
SET status         = %(status)s,
    format         = %(format)s,
    failure_reason = %(failure_reason)s,
    damage         = %(damage)s,
    lines_read     = %(lines_read)s,
    accepted       = %(accepted)s,
    duplicates     = %(duplicates)s,
    quarantined    = %(quarantined)s,
    late_events    = %(late_events)s,
    min_event_time = %(min_event_time)s,
    max_event_time = %(max_event_time)s,
    event_hours    = %(event_hours)s
WHERE object_id = %(object_id)s
