-- Reconciliation, per day of [range_start, range_end): the production infrastructure cost total rounded to
-- the cent (half away from zero, as the attribution rounds it) against the sum of the attributed cents.
-- Staging and untagged cost is never attributed, so it is left out of both sides.
WITH infra AS (
    SELECT usage_date, round(sum(amount), 2) AS infra_total
    FROM analytics_infra_costs
    WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
      AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
      AND environment = 'production'
    GROUP BY usage_date
), attributed AS (
    SELECT usage_date, sum(attributed_cost) AS attributed_total
    FROM analytics_tenant_cost_attribution
    WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
      AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
    GROUP BY usage_date
)
SELECT usage_date, coalesce(infra.infra_total, 0) AS infra_total, coalesce(attributed.attributed_total, 0)
FROM infra FULL JOIN attributed USING (usage_date)
ORDER BY usage_date
