"""Cost Explorer GetCostAndUsage on moto's server over HTTP: paging, Decimal amounts, Estimated, shared cost."""

from datetime import date
from decimal import Decimal

import pytest

from analytics_pipeline.costs.cost_explorer import (
    REQUEST_SLICES,
    CostExplorerResponseError,
    build_request,
    fetch_daily_costs,
    parse_page,
)
from analytics_pipeline.costs.infra_costs import CostCategory, Environment, InfraCost
from analytics_pipeline.defs.costs.resources import CostExplorerResource
from analytics_pipeline_tests.costs.conftest import ce_day, ce_page, ce_slices

D = Decimal
PROD, STAGING, UNTAGGED = Environment.PRODUCTION, Environment.STAGING, Environment.UNTAGGED
COMPUTE, DATA_TRANSFER, STORAGE = CostCategory.COMPUTE, CostCategory.DATA_TRANSFER, CostCategory.STORAGE


def test_two_pages_estimated_days_and_untagged_cost(s3_endpoint, queue_cost_explorer_results):
    queue_cost_explorer_results(*ce_slices({("production", "worker"): [
        ce_page(ce_day("2025-02-01", [("org-a", "Amazon EC2", "10.1234567891"), ("org-b", "Amazon EC2", "0.0000001")]),
                next_token="page-2"),
        ce_page(ce_day("2025-02-01", [("", "Amazon Virtual Private Cloud", "3.50"),
                                      ("org-a", "Amazon EC2", "0.0000000009")]),
                ce_day("2025-02-02", [("org-a", "Amazon EC2", "11"), ("", "Amazon EKS", "2.40")], estimated=True)),
    ]}))
    client = CostExplorerResource(endpoint_url=s3_endpoint).get_client()
    fetched = fetch_daily_costs(client, date(2025, 2, 1), date(2025, 2, 3))
    assert (fetched.requests, fetched.pages, fetched.groups) == (12, 13, 6)  # 11 slices answered with one empty page
    assert fetched.days_in_response == [date(2025, 2, 1), date(2025, 2, 2)]
    worker = {"environment": PROD, "service_tag": "worker"}
    assert fetched.rows == [
        # The same group on two pages is one row, summed exactly.
        InfraCost(date(2025, 2, 1), "org-a", "Amazon EC2", D("10.1234567900"), "USD", False, **worker,
                  category=COMPUTE),
        InfraCost(date(2025, 2, 1), "org-b", "Amazon EC2", D("0.0000001"), "USD", False, **worker, category=COMPUTE),
        # "customer_id$": shared; a VPC moves data whatever tier it serves
        InfraCost(date(2025, 2, 1), None, "Amazon Virtual Private Cloud", D("3.50"), "USD", False, **worker,
                  category=DATA_TRANSFER),
        InfraCost(date(2025, 2, 2), "org-a", "Amazon EC2", D("11"), "USD", True, **worker, category=COMPUTE),
        InfraCost(date(2025, 2, 2), None, "Amazon EKS", D("2.40"), "USD", True, **worker, category=COMPUTE),
    ]


def test_environment_and_service_come_from_the_slice_of_each_request(s3_endpoint, queue_cost_explorer_results):
    queue_cost_explorer_results(*ce_slices({
        ("production", "database"): [ce_page(ce_day("2025-02-05", [("org-a", "Amazon RDS", "2")]))],
        ("staging", "worker"): [ce_page(ce_day("2025-02-05", [("org-a", "Amazon EC2", "5")]))],
        ("untagged", None): [ce_page(ce_day("2025-02-05", [("", "Amazon Simple Storage Service", "1.5"),
                                                           ("", "AWS Support (Business)", "3")]))],
    }))
    client = CostExplorerResource(endpoint_url=s3_endpoint).get_client()
    rows = fetch_daily_costs(client, date(2025, 2, 5), date(2025, 2, 6)).rows
    assert [(r.organization_id, r.service, r.environment, r.service_tag, r.category, r.attributable)
            for r in rows] == [
        ("org-a", "Amazon EC2", STAGING, "worker", COMPUTE, False),  # a tenant's staging sandbox: never attributed
        ("org-a", "Amazon RDS", PROD, "database", STORAGE, True),
        (None, "AWS Support (Business)", UNTAGGED, None, CostCategory.OTHER, False),
        (None, "Amazon Simple Storage Service", UNTAGGED, None, STORAGE, False),
    ]


def test_the_requests_group_by_tenant_tag_and_service_and_filter_by_environment_and_service_tag():
    assert build_request(date(2025, 2, 1), date(2025, 2, 4), metric="AmortizedCost") == {
        "TimePeriod": {"Start": "2025-02-01", "End": "2025-02-04"}, "Granularity": "DAILY",
        "Metrics": ["AmortizedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "customer_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]}
    with pytest.raises(ValueError, match="UsageQuantity"):
        build_request(date(2025, 2, 1), date(2025, 2, 2), metric="UsageQuantity")
    assert len(REQUEST_SLICES) == len(set(REQUEST_SLICES)) == 12
    equals = ["EQUALS", "CASE_INSENSITIVE"]
    assert build_request(date(2025, 2, 1), date(2025, 2, 2), environment=PROD, service_tag="api")["Filter"] == {
        "And": [{"Tags": {"Key": "environment", "Values": ["prod", "production"], "MatchOptions": equals}},
                {"Tags": {"Key": "service", "Values": ["api"], "MatchOptions": equals}}]}
    # Untagged: no tag, or a value that is no known environment / service (absent tags match a Not).
    assert build_request(date(2025, 2, 1), date(2025, 2, 2), environment=UNTAGGED)["Filter"] == {
        "And": [{"Not": {"Tags": {"Key": "environment", "Values": ["prod", "production", "staging", "stage"],
                                  "MatchOptions": equals}}},
                {"Not": {"Tags": {"Key": "service", "Values": ["api", "worker", "database"],
                                  "MatchOptions": equals}}}]}


@pytest.mark.parametrize("page, message", [
    (ce_page({"TimePeriod": {"Start": "2025-02-01"}, "Groups": [{"Keys": ["Amazon EC2"], "Metrics": {}}]}),
     "not \\['customer_id\\$<value>', '<service>'\\]"),
    (ce_page(ce_day("2025-02-01", [("a", "EC2", "1")], metric="BlendedCost")), "no UnblendedCost"),
    (ce_page(ce_day("2025-02-01", [("a", "EC2", "1,0")])), "amount '1,0' is not a number"),
    (ce_page({"Groups": []}), "TimePeriod"),
])
def test_unexpected_responses_are_refused_clearly(page, message):
    with pytest.raises(CostExplorerResponseError, match=message):
        parse_page(page)
