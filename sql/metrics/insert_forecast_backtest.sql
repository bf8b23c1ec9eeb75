-- One metric's backtest as of a day.
INSERT INTO analytics_forecast_backtests (as_of, metric, seasonal_mape, run_rate_mape, seasonal_wape, run_rate_wape,
                                          cases, origins)
VALUES (%(as_of)s, %(metric)s, %(seasonal_mape)s, %(run_rate_mape)s, %(seasonal_wape)s, %(run_rate_wape)s,
        %(cases)s, %(origins)s)
