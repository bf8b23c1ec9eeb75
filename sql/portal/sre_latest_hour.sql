-- The last hour before %(before)s with platform-wide SRE metrics (NULL: none): where the SRE page's range ends
-- and since when the status page has no data.
SELECT max(bucket_start)
FROM analytics_endpoint_hourly_metrics
WHERE organization_id IS NULL AND bucket_start < %(before)s
