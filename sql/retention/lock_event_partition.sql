-- Lock one day's partition against writers and count its rows (NULL: no such partition).
SELECT analytics_lock_event_partition(%(day)s)
