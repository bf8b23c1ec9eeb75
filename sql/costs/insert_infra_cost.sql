-- One (day, tenant or shared, service, environment, service tag, category) cost row; organization_id NULL is
-- cost without the customer_id tag, shared by everyone (in production; kept apart in the other environments).
INSERT INTO analytics_infra_costs (
    usage_date, organization_id, service, amount, currency, estimated, source, cost_metric, run_id,
    environment, service_tag, cost_category)
VALUES (
    %(usage_date)s, %(organization_id)s, %(service)s, %(amount)s, %(currency)s, %(estimated)s, %(source)s,
    %(cost_metric)s, %(run_id)s, %(environment)s, %(service_tag)s, %(cost_category)s)
