-- Dashboard view: infrastructure cost per UTC day and service, split into tenant-tagged and shared (untagged)
-- cost; estimated: Cost Explorer may still revise the day.
CREATE OR REPLACE VIEW analytics_view_infra_costs_by_service AS
SELECT usage_date,
       service,
       sum(amount) AS total_cost,
       coalesce(sum(amount) FILTER (WHERE organization_id IS NOT NULL), 0) AS tagged_cost,
       coalesce(sum(amount) FILTER (WHERE organization_id IS NULL), 0) AS shared_cost,
       count(DISTINCT organization_id) AS tenants,
       bool_or(estimated) AS estimated,
       min(currency) AS currency,
       min(source) AS source
FROM analytics_infra_costs
GROUP BY usage_date, service
