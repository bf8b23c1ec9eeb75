"""Business, customer and SRE metrics: pure domain code and SQL, no Dagster.

Activity (active users and customers), feature adoption, customer health and churn, revenue
and MRR, top customers, month-end forecasts and hourly SRE metrics, each computed in
PostgreSQL from the raw events and rollups (``sql/metrics/``) and replaced per window.
"""
