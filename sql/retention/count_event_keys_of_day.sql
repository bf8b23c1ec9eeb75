SELECT count(*) FROM analytics_event_keys WHERE event_time >= %(day_start)s AND event_time < %(day_end)s
