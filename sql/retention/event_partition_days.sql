-- Days of the raw-event partitions (analytics_events_pYYYYMMDD) up to a last day, oldest first.
SELECT to_date(right(child.relname, 8), 'YYYYMMDD') AS day
FROM pg_inherits
JOIN pg_class child ON child.oid = pg_inherits.inhrelid
WHERE pg_inherits.inhparent = 'analytics_events'::regclass
  AND child.relname ~ '^analytics_events_p[0-9]{8}$'
  AND to_date(right(child.relname, 8), 'YYYYMMDD') <= %(last_day)s
ORDER BY day
