"""Business, customer and SRE metrics: pure domain code and SQL (``sql/metrics/``), no Dagster.

``activity`` (active users and customers, lifecycle, churn), ``adoption`` (features),
``health`` (the 0-100 score, bands and churn signals), ``revenue`` (plans, MRR, top
customers), ``forecasting`` (the weekly-seasonal month-end forecast of daily series and its
backtest, domain-neutral: the costs domain's budget check uses it too), ``forecast`` (the
organizations' month-end forecasts, by ``forecasting``), ``sre`` (hourly endpoint, error-type, agent, tool and
session metrics), ``checks`` (the queries of the asset checks) and ``headlines`` (the demo's
figures). Each replaces a window in PostgreSQL in one transaction; the README's Metrics
section defines every figure.
"""
