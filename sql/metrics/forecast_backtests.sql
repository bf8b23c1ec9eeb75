-- The backtests made as of the days [first_day, end_day), per metric.
SELECT as_of, metric, seasonal_mape, run_rate_mape, seasonal_wape, run_rate_wape, cases
FROM analytics_forecast_backtests
WHERE as_of >= %(first_day)s AND as_of < %(end_day)s
ORDER BY as_of, metric
