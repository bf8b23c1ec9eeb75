-- The status page: every organization's requests together (organization_id NULL in the hourly SRE metrics),
-- per endpoint and hour of [range_start, range_end): requests and server errors (5xx). Nothing per tenant is
-- read. Events without an endpoint ('(none)') are no endpoint of the platform's and are left out.
SELECT endpoint, bucket_start, request_count, status_5xx
FROM analytics_endpoint_hourly_metrics
WHERE organization_id IS NULL
  AND endpoint <> '(none)'
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY endpoint, bucket_start
