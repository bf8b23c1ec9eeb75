-- The platform's month-end forecast as of a day, and the requests backtest of that day.
SELECT f.as_of, f.requests_to_date, f.requests_forecast, f.requests_run_rate, f.cost_to_date, f.cost_forecast,
       f.cost_run_rate, b.seasonal_mape, b.run_rate_mape
FROM analytics_usage_forecasts AS f
LEFT JOIN analytics_forecast_backtests AS b ON b.as_of = f.as_of AND b.metric = 'requests'
WHERE f.as_of = %(as_of)s AND f.organization_id IS NULL
