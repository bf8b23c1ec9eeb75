"""Cost Explorer GetCostAndUsage on moto's server over HTTP: paging, Decimal amounts, Estimated, shared cost."""

from datetime import date
from decimal import Decimal

import pytest

from analytics_pipeline.costs.cost_explorer import (
    CostExplorerResponseError,
    build_request,
    fetch_daily_costs,
    parse_page,
)
from analytics_pipeline.costs.infra_costs import InfraCost
from analytics_pipeline.defs.costs.resources import CostExplorerResource
from analytics_pipeline_tests.costs.conftest import ce_day, ce_page

D = Decimal


def test_two_pages_estimated_days_and_untagged_cost(s3_endpoint, queue_cost_explorer_results):
    queue_cost_explorer_results(
        ce_page(ce_day("2025-02-01", [("org-a", "Amazon EC2", "10.1234567891"), ("org-b", "Amazon EC2", "0.0000001")]),
                next_token="page-2"),
        ce_page(ce_day("2025-02-01", [("", "Amazon VPC", "3.50"), ("org-a", "Amazon EC2", "0.0000000009")]),
                ce_day("2025-02-02", [("org-a", "Amazon EC2", "11"), ("", "Amazon EKS", "2.40")], estimated=True)),
    )
    client = CostExplorerResource(endpoint_url=s3_endpoint).get_client()
    fetched = fetch_daily_costs(client, date(2025, 2, 1), date(2025, 2, 3))
    assert (fetched.pages, fetched.groups) == (2, 6)
    assert fetched.days_in_response == [date(2025, 2, 1), date(2025, 2, 2)]
    assert fetched.rows == [
        # The same group on two pages is one row, summed exactly.
        InfraCost(date(2025, 2, 1), "org-a", "Amazon EC2", D("10.1234567900"), "USD", False),
        InfraCost(date(2025, 2, 1), "org-b", "Amazon EC2", D("0.0000001"), "USD", False),
        InfraCost(date(2025, 2, 1), None, "Amazon VPC", D("3.50"), "USD", False),  # "customer_id$": shared
        InfraCost(date(2025, 2, 2), "org-a", "Amazon EC2", D("11"), "USD", True),
        InfraCost(date(2025, 2, 2), None, "Amazon EKS", D("2.40"), "USD", True),
    ]


def test_the_request_groups_by_tenant_tag_and_service():
    assert build_request(date(2025, 2, 1), date(2025, 2, 4), metric="AmortizedCost") == {
        "TimePeriod": {"Start": "2025-02-01", "End": "2025-02-04"}, "Granularity": "DAILY",
        "Metrics": ["AmortizedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "customer_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]}
    with pytest.raises(ValueError, match="UsageQuantity"):
        build_request(date(2025, 2, 1), date(2025, 2, 2), metric="UsageQuantity")


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
