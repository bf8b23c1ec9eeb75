-- A month's rankings from analytics_monthly_revenue: by billed revenue and by usage (tokens), every organization
-- with a positive value, ties by organization id, each with its rank in the month before (ranked the same way
-- from that month's rows) and the change (previous - rank: positive moved up).
WITH measures AS (
    SELECT month, 'revenue' AS ranking, organization_id, billed_revenue AS value
    FROM analytics_monthly_revenue WHERE month IN (%(month)s, %(previous_month)s) AND billed_revenue > 0
    UNION ALL
    SELECT month, 'usage', organization_id, tokens_total::numeric
    FROM analytics_monthly_revenue WHERE month IN (%(month)s, %(previous_month)s) AND tokens_total > 0
), ranked AS (
    SELECT month, ranking, organization_id, value,
           row_number() OVER (PARTITION BY month, ranking ORDER BY value DESC, organization_id) AS rank
    FROM measures
)
INSERT INTO analytics_top_customers (month, ranking, rank, organization_id, value, previous_rank, rank_change)
SELECT r.month, r.ranking, r.rank, r.organization_id, r.value, p.rank, p.rank - r.rank
FROM ranked AS r
LEFT JOIN ranked AS p ON p.month = %(previous_month)s AND p.ranking = r.ranking AND p.organization_id = r.organization_id
WHERE r.month = %(month)s
