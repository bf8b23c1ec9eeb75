-- How far the hourly rollups reach as of %(as_of)s: a row covers its hour up to when it was
-- computed, least(bucket_start + 1 hour, computed_at). Rows from %(since)s on (the index on
-- bucket_start), else any row; then the newest computation.
SELECT coalesce(
           (SELECT max(least(bucket_start + interval '1 hour', computed_at)) FROM analytics_hourly_rollups
             WHERE bucket_start >= %(since)s AND bucket_start <= %(as_of)s AND computed_at <= %(as_of)s),
           (SELECT max(least(bucket_start + interval '1 hour', computed_at)) FROM analytics_hourly_rollups
             WHERE bucket_start <= %(as_of)s AND computed_at <= %(as_of)s)) AS newest_covered,
       (SELECT max(computed_at) FROM analytics_hourly_rollups
         WHERE bucket_start >= %(since)s AND computed_at <= %(as_of)s) AS newest_computation
