"""Largest-remainder attribution: exact sums, within a cent of the exact share, and the edge cases."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.costs.attribution import (
    AllocationDriver,
    AttributionStatus,
    TenantUsage,
    allocate_proportionally,
    attribute_day,
    largest_remainder,
    round_cents,
)

D = Decimal


def usage(requests, driver):
    return TenantUsage(requests, D(driver))


def test_largest_remainder_gives_the_missing_cents_to_the_largest_remainders():
    # 1/3 each of 1.00: 0.33 x 3 = 0.99, the missing cent goes to the first by organization id.
    exact = {"b": D(1) / 3, "a": D(1) / 3, "c": D(1) / 3}
    assert largest_remainder(exact, D("1.00")) == {"a": D("0.34"), "b": D("0.33"), "c": D("0.33")}
    # Remainders decide before names: 0.126 has the largest remainder.
    assert largest_remainder({"a": D("0.121"), "z": D("0.126"), "m": D("0.123")}, D("0.37")) == {
        "a": D("0.12"), "z": D("0.13"), "m": D("0.12")}


def test_largest_remainder_refuses_an_unreachable_total():
    with pytest.raises(ValueError, match="cannot be reached"):
        largest_remainder({"a": D("1.00"), "b": D("2.00")}, D("3.05"))
    with pytest.raises(ValueError, match="whole number of cents"):
        largest_remainder({"a": D("1.001")}, D("1.001"))


def test_allocate_proportionally_splits_pennies_exactly():
    assert allocate_proportionally(D("0.10"), {"a": D(1), "b": D(1), "c": D(1)}) == {
        "a": D("0.04"), "b": D("0.03"), "c": D("0.03")}
    assert sum(allocate_proportionally(D("1234.57"), {i: D(i + 1) for i in range(7)}).values()) == D("1234.57")
    with pytest.raises(ValueError, match="positive sum"):
        allocate_proportionally(D("1.00"), {"a": D(0)})


def test_a_day_with_tagged_and_shared_cost():
    # shared 10.00 split 3:1 by tokens -> 7.50 / 2.50; tagged costs added; total 10 + 5.555 + 1.111 = 16.666 -> 16.67
    result = attribute_day({"a": D("5.555"), "b": D("1.111")}, D("10.00"),
                           {"a": usage(30, 300), "b": usage(10, 100)})
    rows = {r.organization_id: r for r in result.rows}
    assert result.total == D("16.67") and sum(r.attributed_cost for r in result.rows) == D("16.67")
    assert rows["a"].shared_cost_exact == D("7.5") and rows["a"].driver_share == D("0.75")
    assert {k: r.attributed_cost for k, r in rows.items()} == {"a": D("13.06"), "b": D("3.61")}
    assert all(r.status is AttributionStatus.ATTRIBUTED for r in result.rows)


def test_tenant_with_cost_but_no_usage_keeps_its_direct_cost_only():
    result = attribute_day({"gone": D("0.35"), "a": D("1")}, D("3"), {"a": usage(5, 50)})
    rows = {r.organization_id: r for r in result.rows}
    assert rows["gone"].status is AttributionStatus.COST_WITHOUT_USAGE
    assert rows["gone"].attributed_cost == D("0.35") and rows["gone"].shared_cost_exact == 0
    assert rows["a"].attributed_cost == D("4.00")


def test_usage_without_tagged_cost_gets_its_share_of_shared_cost():
    result = attribute_day({}, D("9.00"), {"a": usage(1, 2), "b": usage(1, 1)})
    assert [(r.organization_id, r.attributed_cost, r.status) for r in result.rows] == [
        ("a", D("6.00"), AttributionStatus.USAGE_WITHOUT_DIRECT_COST),
        ("b", D("3.00"), AttributionStatus.USAGE_WITHOUT_DIRECT_COST)]


def test_usage_on_a_day_without_any_cost_is_kept_with_zero_cost():
    result = attribute_day({}, D(0), {"a": usage(4, 40)})
    assert [(r.organization_id, r.attributed_cost, r.status) for r in result.rows] == [
        ("a", D("0.00"), AttributionStatus.USAGE_WITHOUT_DIRECT_COST)]
    assert result.total == 0 and result.unattributed == 0


@pytest.mark.parametrize("day_usage", [{}, {"a": usage(3, 0)}], ids=["no usage", "driver total 0"])
def test_shared_cost_of_a_day_without_driver_usage_stays_unattributed(day_usage):
    result = attribute_day({"b": D("2.004")}, D("7.499"), day_usage)
    unattributed = [r for r in result.rows if r.organization_id is None]
    assert len(unattributed) == 1 and unattributed[0].status is AttributionStatus.UNATTRIBUTED
    assert result.unattributed == D("7.499")
    assert sum(r.attributed_cost for r in result.rows) == result.total == D("9.50")
    assert {r.organization_id: r.attributed_cost for r in result.rows}["b"] == D("2.00")


def test_credits_round_the_same_way():
    result = attribute_day({"a": D("-1.005"), "b": D("3.333")}, D("-0.50"), {"a": usage(1, 1), "b": usage(1, 1)})
    assert sum(r.attributed_cost for r in result.rows) == result.total == round_cents(D("1.828")) == D("1.83")
    for row in result.rows:
        assert abs(row.attributed_cost - row.exact_cost) < D("0.01")


def test_driver_names_are_validated():
    assert AllocationDriver.parse(" Tokens ") is AllocationDriver.TOKENS
    with pytest.raises(ValueError, match="tokens, requests, duration"):
        AllocationDriver.parse("revenue")


amounts = st.builds(lambda units, scale: D(units).scaleb(-scale),
                    st.integers(min_value=-5_000_000, max_value=500_000_000), st.integers(min_value=0, max_value=10))
tenant_ids = st.sampled_from([f"org-{i:02d}" for i in range(15)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(direct=st.dictionaries(tenant_ids, amounts, max_size=12),
       shared=amounts,
       drivers=st.dictionaries(tenant_ids, st.integers(min_value=0, max_value=10**12), max_size=12))
def test_attribution_sums_exactly_and_stays_within_a_cent(direct, shared, drivers):
    day_usage = {t: TenantUsage(1, D(v)) for t, v in drivers.items()}
    result = attribute_day(direct, shared, day_usage)
    exact_total = sum(direct.values(), D(0)) + shared
    assert sum(r.attributed_cost for r in result.rows) == result.total == round_cents(exact_total)
    driver_total = sum(drivers.values())
    for row in result.rows:
        assert row.attributed_cost == row.attributed_cost.quantize(D("0.01"))
        if row.organization_id is None:
            exact = Fraction(shared)
        else:
            share = Fraction(drivers.get(row.organization_id, 0), driver_total) if driver_total else 0
            exact = Fraction(direct.get(row.organization_id, D(0))) + Fraction(shared) * share
        assert abs(Fraction(row.attributed_cost) - exact) <= Fraction(1, 100), row
    assert {r.organization_id for r in result.rows} - {None} == set(direct) | set(drivers)
    assert any(r.organization_id is None for r in result.rows) == bool(shared and not driver_total)
