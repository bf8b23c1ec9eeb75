SELECT analytics_ensure_event_partition(%(day)s)
