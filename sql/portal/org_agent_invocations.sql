-- One organization's agent invocations (every agent type together) per {step} of [range_start, range_end),
-- from the hourly agent metrics; {step} ('1 hour' or '1 day') is fixed by the caller.
SELECT date_bin({step}::interval, bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(invocations)::bigint AS invocations,
       sum(failures)::bigint AS failures
FROM analytics_agent_hourly_metrics
WHERE organization_id = %(organization_id)s
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY 1
ORDER BY 1
