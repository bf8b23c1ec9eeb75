-- Per namespace and service, one metric's datapoints of [window_start, window_end) from the CloudWatch
-- Metric Streams: its mean (sum over count), largest maximum and total sum.
SELECT namespace, service,
       sum(sample_sum) / nullif(sum(sample_count), 0) AS mean,
       max(sample_max) AS maximum,
       sum(sample_sum) AS total,
       count(*) AS minutes
FROM analytics_service_minute_metrics
WHERE metric_name = %(metric_name)s AND minute >= %(window_start)s AND minute < %(window_end)s
GROUP BY namespace, service
ORDER BY namespace, service
