-- The organization's latest month-end forecast of the month %(month)s made on or before %(as_of)s
-- (the weekly-seasonal forecast of the usage_forecasts asset, with the plain run rate beside it).
SELECT as_of, days_elapsed, days_in_month, requests_to_date, requests_forecast, tokens_to_date, tokens_forecast,
       cost_to_date, cost_forecast, cost_run_rate
FROM analytics_usage_forecasts
WHERE organization_id = %(organization_id)s AND month = %(month)s AND as_of <= %(as_of)s
ORDER BY as_of DESC
LIMIT 1
