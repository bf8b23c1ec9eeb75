-- The month's top customers by revenue and by usage (tokens), with their rank change from the month before.
SELECT ranking, rank, organization_id, value, previous_rank, rank_change
FROM analytics_top_customers
WHERE month = %(month)s AND rank <= %(limit)s
ORDER BY ranking, rank, organization_id
