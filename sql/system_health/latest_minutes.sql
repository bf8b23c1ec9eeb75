-- The system-health panel: per service and metric, the hour of datapoints up to the latest minute at or
-- before now (the mean over the hour, its highest maximum, its total, and the latest minute's mean).
WITH latest AS (
    SELECT max(minute) AS minute FROM analytics_service_minute_metrics WHERE minute <= %(now)s
)
SELECT m.namespace, m.service, m.metric_name, min(m.unit) AS unit,
       sum(m.sample_sum) / nullif(sum(m.sample_count), 0) AS mean,
       max(m.sample_max) AS maximum,
       sum(m.sample_sum) AS total,
       (array_agg(m.sample_sum / nullif(m.sample_count, 0) ORDER BY m.minute DESC))[1] AS last_mean,
       max(m.minute) AS last_minute
FROM analytics_service_minute_metrics AS m, latest
WHERE m.minute > latest.minute - interval '1 hour' AND m.minute <= latest.minute
  AND m.metric_name = ANY(%(metric_names)s)
GROUP BY m.namespace, m.service, m.metric_name
ORDER BY m.namespace, m.service, m.metric_name
