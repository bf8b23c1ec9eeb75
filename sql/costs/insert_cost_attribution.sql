-- One tenant's attributed cost for a day; organization_id NULL holds shared cost no usage carried. The
-- category columns split the exact cost (direct + shared share) by the memo's cost categories.
INSERT INTO analytics_tenant_cost_attribution (
    usage_date, organization_id, direct_cost, shared_cost_exact, attributed_cost, driver, driver_value,
    driver_share, request_count, status, currency, run_id,
    compute_cost, api_cost, data_transfer_cost, storage_cost, other_cost)
VALUES (
    %(usage_date)s, %(organization_id)s, %(direct_cost)s, %(shared_cost_exact)s, %(attributed_cost)s, %(driver)s,
    %(driver_value)s, %(driver_share)s, %(request_count)s, %(status)s, %(currency)s, %(run_id)s,
    %(compute_cost)s, %(api_cost)s, %(data_transfer_cost)s, %(storage_cost)s, %(other_cost)s)
