-- The columns of analytics_events in order (the archive's schema must list them all).
SELECT attname
FROM pg_attribute
WHERE attrelid = 'analytics_events'::regclass AND attnum > 0 AND NOT attisdropped
ORDER BY attnum
