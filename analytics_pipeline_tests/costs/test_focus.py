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
from analytics_pipeline.costs.infra_costs import InfraCost
from analytics_pipeline.storage.object_store import S3ObjectStore

D = Decimal
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
    assert rows == [
        InfraCost(date(2026, 3, 2), "org-a", "Amazon EC2", D("1.0000000001"), "USD"),
        InfraCost(date(2026, 3, 2), "org-b", "Amazon EC2", D("2.5"), "USD"),
        InfraCost(date(2026, 3, 2), None, "Amazon VPC", D("0.75"), "USD"),
        InfraCost(date(2026, 3, 2), None, "Amazon VPC", D("0.25"), "USD"),
        InfraCost(date(2026, 3, 2), "org-a", "Amazon EC2", D("-0.10"), "USD"),
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
