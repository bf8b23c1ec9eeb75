-- One organization's revenue and MRR for a month.
INSERT INTO analytics_monthly_revenue (month, organization_id, plan, usage_revenue, discount_percent,
                                       discounted_usage, monthly_commitment, billed_revenue, overage, request_count,
                                       tokens_total, currency)
VALUES (%(month)s, %(organization_id)s, %(plan)s, %(usage_revenue)s, %(discount_percent)s, %(discounted_usage)s,
        %(monthly_commitment)s, %(billed_revenue)s, %(overage)s, %(request_count)s, %(tokens_total)s, %(currency)s)
