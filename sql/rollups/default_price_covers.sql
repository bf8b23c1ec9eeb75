-- Whether the '*' default price is in effect from %(range_start)s on: every event after it then has
-- a price (its model's, or the default), and no event needs to be looked at.
SELECT EXISTS (SELECT FROM analytics_model_prices WHERE model_id = '*' AND effective_from <= %(range_start)s)
