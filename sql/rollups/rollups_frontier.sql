-- Where {rollup_table}'s buckets end: the start of the first bucket after its newest (NULL when
-- it is empty). Buckets from here on are not rolled up yet; the live usage reads their raw events.
SELECT max(bucket_start) + make_interval(hours => CASE WHEN {bucket} = 'hour' THEN 1 ELSE 24 END)
FROM {rollup_table}
