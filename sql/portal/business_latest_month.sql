-- The latest month on or before %(before)s with revenue figures: where the business page opens.
SELECT max(month) FROM analytics_monthly_revenue WHERE month <= %(before)s
