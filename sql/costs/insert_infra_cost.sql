-- One (day, tenant or shared, service) cost row; organization_id NULL is untagged, shared cost.
INSERT INTO analytics_infra_costs (
    usage_date, organization_id, service, amount, currency, estimated, source, cost_metric, run_id)
VALUES (
    %(usage_date)s, %(organization_id)s, %(service)s, %(amount)s, %(currency)s, %(estimated)s, %(source)s,
    %(cost_metric)s, %(run_id)s)
