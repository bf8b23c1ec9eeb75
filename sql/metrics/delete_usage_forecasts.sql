-- Remove the forecasts and backtests made as of the days [first_day, end_day) being recomputed.
WITH backtests AS (
    DELETE FROM analytics_forecast_backtests WHERE as_of >= %(first_day)s AND as_of < %(end_day)s
)
DELETE FROM analytics_usage_forecasts WHERE as_of >= %(first_day)s AND as_of < %(end_day)s
