-- Dashboard view: usage and revenue per UTC day and organization (all models together), from the daily rollups.
-- revenue is what the usage is billed (the rollups' cost_total); error_rate_pct is errors per 100 requests.
CREATE OR REPLACE VIEW analytics_view_daily_usage AS
SELECT (bucket_start AT TIME ZONE 'UTC')::date AS usage_date,
       organization_id,
       sum(request_count) AS request_count,
       sum(tokens_input) AS tokens_input,
       sum(tokens_output) AS tokens_output,
       sum(tokens_total) AS tokens_total,
       sum(error_count) AS error_count,
       sum(client_error_count) AS client_error_count,
       sum(server_error_count) AS server_error_count,
       round(100.0 * sum(error_count) / nullif(sum(request_count), 0), 2) AS error_rate_pct,
       sum(cost_total) AS revenue,
       count(DISTINCT model_id) AS models_used
FROM analytics_daily_rollups
GROUP BY 1, 2
