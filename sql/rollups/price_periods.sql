-- Shared CTEs, included by the rollup queries: each catalog price with the moment it stops
-- applying, and the '*' default periods on their own.
price_periods AS (
    SELECT model_id, effective_from,
           coalesce(lead(effective_from) OVER (PARTITION BY model_id ORDER BY effective_from),
                    'infinity'::timestamptz) AS effective_to,
           price_per_request, price_per_1k_input_tokens, price_per_1k_output_tokens
    FROM analytics_model_prices
),
-- The '*' periods on their own: joined by time range alone, a small CTE the planner hashes
-- or scans once instead of rescanning the whole catalog per event (-10 s per 10 M events).
default_price_periods AS MATERIALIZED (
    SELECT * FROM price_periods WHERE model_id = '*'
)
