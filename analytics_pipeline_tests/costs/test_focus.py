"""FOCUS cost exports: parsing, multi-day charges and listing by billing period."""

import gzip
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from analytics_pipeline.costs.focus import (
    FocusFormatError,
    parse_focus_csv,
    read_focus_costs,
    split_by_day,
    tenant_from_tags,
)
from analytics_pipeline.costs.infra_costs import CostCategory, Environment, InfraCost, cost_category, environment_of
from analytics_pipeline.storage.object_store import S3ObjectStore

D = Decimal
UNTAGGED, PRODUCTION, STAGING = Environment.UNTAGGED, Environment.PRODUCTION, Environment.STAGING
COMPUTE, API, DATA_TRANSFER, STORAGE, OTHER = (CostCategory.COMPUTE, CostCategory.API, CostCategory.DATA_TRANSFER,
                                               CostCategory.STORAGE, CostCategory.OTHER)
HEADER = "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,ServiceName,Tags\n"
MARCH = (date(2026, 3, 1), date(2026, 4, 1))


def line(start, end, billed, service="Amazon EC2", tags="", effective=None, category="Usage"):
    tags_field = '"' + tags.replace('"', '""') + '"'
    return f"{start},{end},{category},{billed},{effective or billed},USD,{service},{tags_field}\n"


def test_parse_tenant_tags_shared_cost_and_decimals():
    text = HEADER + "".join([
        line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "1.0000000001", tags='{"customer_id": "org-a"}'),
        line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "2.5", tags='{"user:customer_id": "org-b"}'),
        line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "0.75", "Amazon VPC", '{"customer_id": ""}'),
        line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "0.25", "Amazon VPC", ""),
        line("2026-03-02 05:00:00", "2026-03-02 06:00:00", "-0.10", tags='{"customer_id": "org-a"}',
             category="Credit"),  # hourly, no zone: UTC
        line("2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z", "99", tags='{"customer_id": "org-a"}'),  # before
    ])
    rows = parse_focus_csv(text.encode(), start=MARCH[0], end=MARCH[1])
    # Without an environment tag, cost is "untagged": loaded, never attributed to a tenant.
    ec2, vpc = {"environment": UNTAGGED, "category": COMPUTE}, {"environment": UNTAGGED, "category": DATA_TRANSFER}
    assert rows == [
        InfraCost(date(2026, 3, 2), "org-a", "Amazon EC2", D("1.0000000001"), "USD", **ec2),
        InfraCost(date(2026, 3, 2), "org-b", "Amazon EC2", D("2.5"), "USD", **ec2),
        InfraCost(date(2026, 3, 2), None, "Amazon VPC", D("0.75"), "USD", **vpc),
        InfraCost(date(2026, 3, 2), None, "Amazon VPC", D("0.25"), "USD", **vpc),
        InfraCost(date(2026, 3, 2), "org-a", "Amazon EC2", D("-0.10"), "USD", **ec2),
    ]
    effective = parse_focus_csv(gzip.compress(text.encode()), start=MARCH[0], end=MARCH[1],
                                cost_column="EffectiveCost")
    assert [r.amount for r in effective] == [r.amount for r in rows]


def test_a_monthly_charge_is_spread_over_its_days_exactly():
    parts = split_by_day(D("100.00"), *(_utc(2026, 2, 1), _utc(2026, 3, 1)))
    assert len(parts) == 28 and sum(p for _, p in parts) == D("100.00")
    assert parts[0] == (date(2026, 2, 1), D("3.5714285714"))
    text = HEADER + line("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "31.00", "AWS Support", "{}",
                         category="Purchase")
    rows = parse_focus_csv(text.encode(), start=date(2026, 3, 10), end=date(2026, 3, 12))
    assert [(r.usage_date.day, r.amount) for r in rows] == [(10, D("1.0000000000")), (11, D("1.0000000000"))]


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("body, message", [
    ("ChargePeriodStart,BilledCost\n", "missing FOCUS column"),
    (HEADER + line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "1,5"), "line 2"),
    (HEADER + line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "abc"), "BilledCost 'abc' is not a number"),
    (HEADER + line("yesterday", "2026-03-03T00:00:00Z", "1"), "not an ISO 8601 timestamp"),
    (HEADER + line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "1", tags="customer_id=a"), "Tags is not JSON"),
])
def test_unreadable_lines_name_the_object_and_line(body, message):
    with pytest.raises(FocusFormatError, match=message) as error:
        parse_focus_csv(body.encode(), start=MARCH[0], end=MARCH[1], object_key="BILLING_PERIOD=2026-03/x.csv")
    assert "BILLING_PERIOD=2026-03/x.csv" in str(error.value)


def test_tenant_from_tags():
    assert tenant_from_tags('{"customer_id": " org-a "}') == "org-a"
    assert tenant_from_tags('{"environment": "prod"}') is None
    assert tenant_from_tags("") is None
    with pytest.raises(FocusFormatError, match="not a JSON object"):
        tenant_from_tags("[1]")


def test_exports_are_listed_per_billing_period_on_s3(s3_client, s3_bucket):
    store = S3ObjectStore(s3_client, s3_bucket, "focus/data")
    store.write("BILLING_PERIOD=2026-03/part-00001.csv.gz", gzip.compress((HEADER + line(
        "2026-03-31T00:00:00Z", "2026-04-01T00:00:00Z", "1.25", tags='{"customer_id": "org-a"}')).encode()))
    store.write("BILLING_PERIOD=2026-04/part-00001.csv", (HEADER + line(
        "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z", "2.50")).encode())
    store.write("BILLING_PERIOD=2026-04/manifest.json", b"{}")  # not cost data
    store.write("BILLING_PERIOD=2026-05/part-00001.csv", b"not even read")
    fetched = read_focus_costs(store, date(2026, 3, 31), date(2026, 4, 2))
    assert [(r.usage_date, r.organization_id, r.amount) for r in fetched.rows] == [
        (date(2026, 3, 31), "org-a", D("1.25")), (date(2026, 4, 1), None, D("2.50"))]
    assert fetched.stats.objects == ["BILLING_PERIOD=2026-03/part-00001.csv.gz",
                                     "BILLING_PERIOD=2026-04/part-00001.csv"]
    with pytest.raises(FocusFormatError, match="no FOCUS export objects .*/focus/data/BILLING_PERIOD=2026-06/"):
        read_focus_costs(store, date(2026, 6, 1), date(2026, 6, 2))


def test_environment_and_service_tags_and_the_service_category_decide_where_cost_goes():
    header = HEADER.replace(",Tags\n", ",ServiceCategory,Tags\n")

    def charge(billed, service, service_category, tags):
        return line("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", billed, service, tags).replace(
            f",{service},", f",{service},{service_category},")

    text = header + "".join([
        charge("1", "Amazon Elastic Compute Cloud", "Compute", '{"customer_id": "a", "environment": "prod", '
               '"service": "worker"}'),
        charge("2", "Amazon Bedrock", "AI and Machine Learning", '{"customer_id": "a", "user:environment": '
               '"Production", "user:service": "api"}'),
        charge("3", "AWS Data Transfer", "Networking", '{"customer_id": "a", "environment": "prod", "service": "api"}'),
        charge("4", "Amazon Relational Database Service", "Databases", '{"customer_id": "a", "environment": '
               '"prod", "service": "database"}'),
        charge("5", "Amazon CloudWatch", "Management and Governance", '{"environment": "prod", "service": "platform"}'),
        charge("6", "Amazon Elastic Compute Cloud", "Compute", '{"customer_id": "a", "environment": "staging", '
               '"service": "worker"}'),
        charge("7", "Amazon Simple Storage Service", "Storage", '{"environment": "dev"}'),
    ])
    rows = parse_focus_csv(text.encode(), start=MARCH[0], end=MARCH[1])
    assert sorted((r.amount, r.organization_id, r.environment, r.service_tag, r.category) for r in rows) == [
        (D("1"), "a", PRODUCTION, "worker", COMPUTE),
        (D("2"), "a", PRODUCTION, "api", API),
        (D("3"), "a", PRODUCTION, "api", DATA_TRANSFER),  # data transfer, whatever tier it serves
        (D("4"), "a", PRODUCTION, "database", STORAGE),
        (D("5"), None, PRODUCTION, "platform", OTHER),  # shared production cost: spread over tenants by usage
        (D("6"), "a", STAGING, "worker", COMPUTE),  # a's staging: never a's bill
        (D("7"), None, UNTAGGED, None, STORAGE),  # an environment that is neither: untagged
    ]


@pytest.mark.parametrize("tag, expected", [
    ("prod", PRODUCTION), (" PRODUCTION ", PRODUCTION), ("staging", STAGING), ("stage", STAGING),
    ("dev", UNTAGGED), ("", UNTAGGED), (None, UNTAGGED),
])
def test_environment_tag_values(tag, expected):
    assert environment_of(tag) is expected


@pytest.mark.parametrize("service_tag, service, provider_category, expected", [
    ("worker", "Amazon Elastic Compute Cloud", None, COMPUTE),
    ("api", "Amazon Elastic Compute Cloud", None, API),
    ("database", "Amazon Elastic Compute Cloud", None, STORAGE),  # the tag wins over the provider's service
    ("worker", "Amazon Virtual Private Cloud", None, DATA_TRANSFER),  # ... except for data transfer
    ("database", "Amazon S3", "Networking", DATA_TRANSFER),
    (None, "AWS Lambda", None, COMPUTE), (None, "Amazon Simple Storage Service", None, STORAGE),
    (None, "Amazon Bedrock", None, API), (None, "Amazon CloudWatch", None, OTHER),
    ("platform", "Whatever", "Compute", COMPUTE),
])
def test_cost_categories(service_tag, service, provider_category, expected):
    assert cost_category(service_tag, service, provider_category) is expected
