-- The top of a month's ranking ('revenue' or 'usage').
SELECT rank, organization_id, value, previous_rank, rank_change
FROM analytics_top_customers
WHERE month = %(month)s AND ranking = %(ranking)s
ORDER BY rank
LIMIT %(limit)s
