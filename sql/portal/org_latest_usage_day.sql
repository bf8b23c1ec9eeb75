-- The last UTC day before %(before)s on which the organization has usage (NULL: none): where the portal's
-- default range ends.
SELECT max(bucket_start)
FROM analytics_daily_rollups
WHERE organization_id = %(organization_id)s AND bucket_start < %(before)s
