"""Rollups, cost and reconciliation on a real PostgreSQL, against hand-computed figures."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from analytics_pipeline.rollups.latency import RELATIVE_ERROR
from analytics_pipeline.rollups.pricing import PriceCatalogError, parse_catalog, replace_model_prices
from analytics_pipeline.rollups.reconciliation import daily_mismatches_against_hourly, rollup_mismatches_against_events
from analytics_pipeline.rollups.usage import (
    Granularity,
    MissingPriceError,
    RawEventsDroppedError,
    day_slices,
    replace_endpoint_rollups,
    replace_usage_rollups,
    replace_usage_rollups_by_day,
)
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.sql import compose_sql, load_sql
from analytics_pipeline_tests.event_rows import insert_events

DAY = datetime(2026, 6, 15, tzinfo=UTC)
CATALOG = """model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens
m1,2025-01-01T00:00:00Z,0.001,0.5,1.5
m1,2026-06-15T12:00:00Z,0.002,0.25,1
*,2025-01-01T00:00:00Z,0.0001,0.1,0.2
"""




def ev(hour, minute, request_id, model="m1", status=200, duration=100.0, consumed=None, tokens_in=None,
       tokens_out=None, org="org-a"):
    return (DAY + timedelta(hours=hour, minutes=minute), org, request_id, model, status, duration,
            consumed, tokens_in, tokens_out)


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        yield conn


def hourly(conn, hour):
    return conn.execute(
        "SELECT coalesce(model_id, '-'), request_count, tokens_input, tokens_output, tokens_total, error_count, "
        "client_error_count, server_error_count, cost_total FROM analytics_hourly_rollups "
        "WHERE bucket_start = %s ORDER BY 1", (DAY + timedelta(hours=hour),)).fetchall()


def test_cost_at_the_effective_price_with_a_mid_day_change(conn):
    insert_events(conn, [
        ev(11, 0, "before", tokens_in=1000, tokens_out=2000),   # 0.001 + 0.5 + 3.0
        ev(12, 0, "after", tokens_in=1000, tokens_out=2000),    # 0.002 + 0.25 + 2.0  (price changed at 12:00)
        ev(12, 5, "consumed-only", consumed=400),               # 0.002 + 400/1000*0.25 at the input rate
        ev(12, 6, "server-error", status=503, tokens_in=999),   # 5xx: free
        ev(12, 7, "client-error", status=404, tokens_in=10),    # 4xx: charged, 0.002 + 0.0025
        ev(12, 8, "no-model", model=None),                      # '*' per-request price only
        ev(12, 9, "unknown-model", model="zz", tokens_in=100, tokens_out=100),  # '*': 0.0001+0.01+0.02
    ])
    replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(days=1))
    assert hourly(conn, 11) == [("m1", 1, 1000, 2000, 3000, 0, 0, 0, Decimal("3.501"))]
    assert hourly(conn, 12) == [
        ("-", 1, 0, 0, 0, 0, 0, 0, Decimal("0.0001")),
        ("m1", 4, 1000 + 400 + 999 + 10, 2000, 4409, 2, 1, 1,
         Decimal("2.252") + Decimal("0.102") + Decimal("0") + Decimal("0.0045")),
        ("zz", 1, 100, 100, 200, 0, 0, 0, Decimal("0.0301")),
    ]
    assert isinstance(hourly(conn, 12)[1][8], Decimal)


def test_an_empty_model_id_and_a_missing_one_stay_two_rows(conn):
    # The event contract accepts model_id "" as well as no model_id; they are different facts (exports show
    # "" and "(none)"), so an hour holding both has two rows, hourly and daily, and the checks match each
    # with its own events (the unique key once folded "" into NULL and refused the second row).
    insert_events(conn, [ev(4, 0, "empty", model="", tokens_in=10, duration=10.0),
                         ev(4, 1, "missing", model=None, tokens_in=20, duration=20.0),
                         ev(4, 2, "named", tokens_in=30, duration=30.0)])
    window = (DAY, DAY + timedelta(days=1))
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    replace_usage_rollups(conn, Granularity.DAILY, *window)
    for table in ("analytics_hourly_rollups", "analytics_daily_rollups"):
        assert conn.execute(
            f"SELECT model_id, request_count, tokens_input, latency_p50_ms FROM {table} "  # noqa: S608
            "ORDER BY model_id NULLS FIRST").fetchall() == [
            (None, 1, 20, pytest.approx(20.0, rel=RELATIVE_ERROR)),
            ("", 1, 10, pytest.approx(10.0, rel=RELATIVE_ERROR)),
            ("m1", 1, 30, pytest.approx(30.0, rel=RELATIVE_ERROR))]
    for granularity in Granularity.HOURLY, Granularity.DAILY:
        assert rollup_mismatches_against_events(conn, granularity, *window) == []
    assert daily_mismatches_against_hourly(conn, *window) == []
    # a restated hour replaces both rows, and a tampered one is found on its own side
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    conn.execute("UPDATE analytics_hourly_rollups SET request_count = 5 WHERE model_id = ''")
    assert [row[2] for row in rollup_mismatches_against_events(conn, Granularity.HOURLY, *window)] == [""]
    assert [row[2] for row in daily_mismatches_against_hourly(conn, *window)] == [""]


def test_percentiles_are_exact_on_skewed_data(conn):
    # 1..99 ms plus one 10 s outlier: a heavy tail that averages would hide. The hourly row is exact;
    # the daily row merges the hours' sketches, within the sketch's 1 %.
    durations = [float(i) for i in range(1, 100)] + [10_000.0]
    insert_events(conn, [ev(3, i % 60, f"r{i}", duration=d) for i, d in enumerate(durations)])
    replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(days=1))
    replace_usage_rollups(conn, Granularity.DAILY, DAY, DAY + timedelta(days=1))
    for table, error in (("analytics_hourly_rollups", 1e-12), ("analytics_daily_rollups", RELATIVE_ERROR)):
        p50, p95, p99 = conn.execute(
            f"SELECT latency_p50_ms, latency_p95_ms, latency_p99_ms FROM {table}").fetchone()  # noqa: S608
        assert p50 == pytest.approx(50.5, rel=error)
        assert p95 == pytest.approx(95.05, rel=error)
        assert p99 == pytest.approx(99 + 0.01 * (10_000 - 99), rel=error)


def test_daily_percentiles_are_true_daily_percentiles(conn):
    # Hour 1: 100 fast requests; hour 2: 1 slow one. The average of hourly p50s would be ~5 s.
    insert_events(conn, [ev(1, i % 60, f"fast{i}", duration=10.0) for i in range(100)]
                  + [ev(2, 0, "slow", duration=10_000.0)])
    replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(days=1))
    replace_usage_rollups(conn, Granularity.DAILY, DAY, DAY + timedelta(days=1))
    assert conn.execute("SELECT latency_p50_ms FROM analytics_daily_rollups").fetchone()[0] == pytest.approx(
        10.0, rel=RELATIVE_ERROR)


def test_rerun_replaces_and_late_events_restate_their_hour(conn):
    insert_events(conn, [ev(5, 0, "a", tokens_in=10), ev(6, 0, "b", tokens_in=10)])
    window = (DAY, DAY + timedelta(days=1))
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    first = conn.execute("SELECT * FROM analytics_hourly_rollups ORDER BY bucket_start").fetchall()
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    assert conn.execute("SELECT count(*) FROM analytics_hourly_rollups").fetchone()[0] == len(first) == 2

    insert_events(conn, [ev(5, 30, "late", tokens_in=5)])  # arrives after hour 5 was rolled up
    replace_usage_rollups(conn, Granularity.HOURLY, DAY + timedelta(hours=5), DAY + timedelta(hours=6))
    assert hourly(conn, 5)[0][1:3] == (2, 15)
    assert hourly(conn, 6)[0][1:3] == (1, 10)  # other hours untouched


def test_reconciliation_catches_a_tampered_row(conn):
    insert_events(conn, [ev(h, 0, f"r{h}", tokens_in=h * 10) for h in range(24)])
    window = (DAY, DAY + timedelta(days=1))
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    replace_usage_rollups(conn, Granularity.DAILY, *window)
    assert rollup_mismatches_against_events(conn, Granularity.HOURLY, *window) == []
    assert rollup_mismatches_against_events(conn, Granularity.DAILY, *window) == []
    assert daily_mismatches_against_hourly(conn, *window) == []

    conn.execute("UPDATE analytics_hourly_rollups SET cost_total = cost_total + 0.0001 WHERE bucket_start = %s",
                 (DAY + timedelta(hours=7),))
    mismatches = rollup_mismatches_against_events(conn, Granularity.HOURLY, *window)
    assert [(m[0], m[1]) for m in mismatches] == [(DAY + timedelta(hours=7), "org-a")]
    assert len(daily_mismatches_against_hourly(conn, *window)) == 1

    conn.execute("DELETE FROM analytics_hourly_rollups WHERE bucket_start = %s", (DAY + timedelta(hours=9),))
    assert len(rollup_mismatches_against_events(conn, Granularity.HOURLY, *window)) == 2


@pytest.mark.parametrize("text, message", [
    ("model_id,price\nm,1\n", "header"),
    (CATALOG.replace("0.5,1.5", "-0.5,1.5"), ">= 0"),
    (CATALOG.replace("2026-06-15T12:00:00Z", "2026-06-15T12:00:00"), "time zone"),
    (CATALOG.replace("*,", "m2,"), "'\\*' row"),
    (CATALOG + "m1,2025-01-01T00:00:00Z,1,1,1\n", "duplicate"),
    (CATALOG.replace("0.001,", "abc,"), "line 2"),
    (CATALOG.replace("2026-06-15T12:00:00Z", "2026-06-15T12:30:00Z"), "line 3: .* must be on the hour"),
    (CATALOG.replace("2026-06-15T12:00:00Z", "2026-06-15T12:00:00.5+00:00"), "on the hour"),
])
def test_bad_catalogs_are_rejected_with_the_line(text, message):
    with pytest.raises(PriceCatalogError, match=message):
        parse_catalog(text)


def test_endpoint_performance_per_organization(conn):
    rows = [ev(1, i, f"a{i}", duration=float(i + 1)) for i in range(10)]
    rows += [ev(2, 0, "s1", status=503), ev(2, 1, "c1", status=429), ev(2, 2, "other", org="org-b")]
    insert_events(conn, rows)
    conn.execute("UPDATE analytics_events SET endpoint = '/v1/chat', queue_wait_ms = 4 WHERE organization_id = 'org-a'")
    conn.commit()
    summary = replace_endpoint_rollups(conn, DAY, DAY + timedelta(days=1))
    assert (summary.row_count, summary.endpoints, summary.request_count, summary.server_error_count) == (2, 2, 13, 1)
    row = conn.execute(
        "SELECT request_count, error_count, client_error_count, server_error_count, rate_limited_count, "
        "latency_p50_ms, queue_wait_avg_ms FROM analytics_endpoint_daily_rollups "
        "WHERE organization_id = 'org-a' AND endpoint = '/v1/chat'").fetchone()
    assert row == (12, 2, 1, 1, 1, pytest.approx(6.5), 4.0)
    other = conn.execute("SELECT endpoint FROM analytics_endpoint_daily_rollups "
                         "WHERE organization_id = 'org-b'").fetchone()
    assert other == ("(none)",)


def test_day_slices_cut_a_window_at_utc_midnights():
    assert day_slices(DAY, DAY + timedelta(hours=1)) == [(DAY, DAY + timedelta(hours=1))]
    start, end = DAY + timedelta(hours=20), DAY + timedelta(days=2, hours=3)
    midnight, next_midnight = DAY + timedelta(days=1), DAY + timedelta(days=2)
    assert day_slices(start, end) == [(start, midnight), (midnight, next_midnight), (next_midnight, end)]
    assert day_slices(DAY, DAY) == []


def test_a_multi_day_window_on_two_connections_equals_one_transaction(conn, warehouse_url):
    # Events over three days (both sides of the 12:00 price change), rolled up once in one
    # transaction and once day by day on two connections: identical rows.
    insert_events(conn, [ev(h + 24 * d - 24, i * 6, f"r{d}-{h}-{i}", tokens_in=h * 7 + i, tokens_out=i,
                            status=503 if i == 7 else 200, duration=float(h * i + 1),
                            model=None if i == 4 else "m1", org=f"org-{i % 3}")
                         for d in range(3) for h in range(24) for i in range(10)])
    window = (DAY - timedelta(days=1), DAY + timedelta(days=2))
    columns = "SELECT * FROM {} ORDER BY bucket_start, organization_id, model_id NULLS FIRST"

    def snapshot():
        tables = {}
        for t in ("analytics_hourly_rollups", "analytics_daily_rollups"):
            cursor = conn.execute(columns.format(t))
            kept = [i for i, column in enumerate(cursor.description) if column.name != "computed_at"]
            tables[t] = [tuple(r[i] for i in kept) for r in cursor.fetchall()]
        return tables

    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        replace_usage_rollups(conn, granularity, *window)
    single = snapshot()
    conn.execute("TRUNCATE analytics_hourly_rollups, analytics_daily_rollups")
    conn.commit()
    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        totals = replace_usage_rollups_by_day(lambda: connect(warehouse_url), granularity, *window, workers=2)
        assert totals.request_count == 3 * 24 * 10
    assert snapshot() == single
    # per day: org-0, org-1 and org-2 with m1, and org-1 without a model
    assert len(single["analytics_daily_rollups"]) == 3 * 4
    assert rollup_mismatches_against_events(conn, Granularity.DAILY, *window) == []


def test_the_warehouse_refuses_a_price_change_off_the_hour(conn):
    with pytest.raises(psycopg.errors.CheckViolation, match="effective_from_on_the_hour"):
        conn.execute("INSERT INTO analytics_model_prices VALUES ('m1', '2026-06-15T12:30:00Z', 0, 0, 0)")
    conn.rollback()


def drop_day_as_retention_does(conn, day) -> None:
    """Record a verified archive of ``day``, then drop its partition and mark it dropped, with
    retention's own SQL (sql/retention/)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = conn.execute("SELECT count(*) FROM analytics_events WHERE event_time >= %s AND event_time < %s",
                        (start, start + timedelta(days=1))).fetchone()[0]
    conn.execute(load_sql("retention/record_raw_archive"), {
        "day": day, "location": "s3://bucket/archive", "object_key": f"raw_events/{day}/events.parquet",
        "row_count": rows, "sha256": "0" * 64, "bytes": 1, "archived_at": start + timedelta(days=8)})
    conn.execute(load_sql("retention/drop_event_partition"), {"day": day})
    conn.execute(load_sql("retention/mark_partition_dropped"), {"day": day})
    conn.commit()


def test_a_window_with_a_day_whose_raw_events_were_dropped_is_refused_before_anything_is_deleted(conn,
                                                                                                 warehouse_url):
    old_day, kept_day = DAY - timedelta(days=1), DAY
    insert_events(conn, [ev(h - 24, 0, f"old{h}", tokens_in=10) for h in range(0, 24, 3)]
                  + [ev(h, 0, f"kept{h}", tokens_in=10) for h in range(0, 24, 3)])
    conn.execute("UPDATE analytics_events SET endpoint = '/v1/chat'")
    conn.commit()
    window = (old_day, kept_day + timedelta(days=1))
    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        replace_usage_rollups(conn, granularity, *window)
    replace_endpoint_rollups(conn, *window)
    tables = ("analytics_hourly_rollups", "analytics_daily_rollups", "analytics_endpoint_daily_rollups")

    def snapshot():
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in tables}  # noqa: S608

    before = snapshot()
    assert len(before["analytics_daily_rollups"]) == len(before["analytics_endpoint_daily_rollups"]) == 2

    # Archived but not dropped: still rebuilt from the warehouse.
    conn.execute(load_sql("retention/record_raw_archive"), {
        "day": kept_day.date(), "location": "s3://bucket/archive", "object_key": "k", "row_count": 8,
        "sha256": "0" * 64, "bytes": 1, "archived_at": kept_day + timedelta(days=8)})
    conn.commit()
    drop_day_as_retention_does(conn, old_day.date())

    def refused(call) -> RawEventsDroppedError:
        with pytest.raises(RawEventsDroppedError, match=f"retention dropped the raw events of 1 day.*{old_day:%Y-%m-%d}"
                           ) as raised:
            call()
        conn.rollback()
        return raised.value

    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        error = refused(lambda g=granularity: replace_usage_rollups_by_day(lambda: connect(warehouse_url), g,
                                                                           *window, workers=2))
        assert error.days == [old_day.date()]
        refused(lambda g=granularity: replace_usage_rollups(conn, g, *window))
    refused(lambda: replace_endpoint_rollups(conn, *window))
    # The last hour of the dropped day alone is refused too; the day after it is not.
    refused(lambda: replace_usage_rollups(conn, Granularity.HOURLY, kept_day - timedelta(hours=1), kept_day))
    assert snapshot() == before  # neither day's rollups were deleted

    kept_window = (kept_day, kept_day + timedelta(days=1))
    totals = replace_usage_rollups_by_day(lambda: connect(warehouse_url), Granularity.HOURLY, *kept_window, workers=2)
    assert totals.request_count == 8
    assert replace_endpoint_rollups(conn, *kept_window).request_count == 8
    conn.commit()
    after = snapshot()
    assert [r[:1] for r in after["analytics_daily_rollups"]] == [(old_day,), (kept_day,)]


def test_events_without_a_price_in_effect_are_refused_never_priced_at_zero(warehouse_url):
    with connect(warehouse_url) as conn:
        insert_events(conn, [ev(10, 0, "a", tokens_in=1000), ev(10, 30, "b", model="m2"), ev(11, 5, "c", model=None)])
        # No catalog at all (model_prices never materialized): nothing is rolled up, nothing replaced.
        with pytest.raises(MissingPriceError, match=r"3 events .* have no price in effect: m1 from 2026-06-15 10:00"):
            replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(days=1))
        with pytest.raises(MissingPriceError):
            replace_usage_rollups_by_day(lambda: connect(warehouse_url), Granularity.HOURLY, DAY,
                                         DAY + timedelta(days=1), workers=2)
        assert conn.execute("SELECT count(*) FROM analytics_hourly_rollups").fetchone()[0] == 0

        # The '*' default only from 11:00: m2's request at 10:30 has no price; 11:05's has the default.
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(
                "model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens\n"
                "m1,2025-01-01T00:00:00Z,0.001,0.5,1.5\n*,2026-06-15T11:00:00Z,0.0001,0.1,0.2\n"))
        with pytest.raises(MissingPriceError) as refused:
            replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(days=1))
        assert [(model, count) for model, _, count in refused.value.unpriced] == [("m2", 1)]
        assert "1 events between 2026-06-15 00:00 and 2026-06-16 00:00 UTC have no price in effect: m2 from " \
               "2026-06-15 10:30 UTC (1 events)" in str(refused.value)
        # From 11:00 every event is priced: rolled up, the '*' price for the model-less request.
        replace_usage_rollups(conn, Granularity.HOURLY, DAY + timedelta(hours=11), DAY + timedelta(hours=12))
        assert hourly(conn, 11) == [("-", 1, 0, 0, 0, 0, 0, 0, Decimal("0.0001"))]
        # The reconciliation's own per-event pricing leaves an unpriced event's cost NULL, never 0.
        priced = conn.execute(sql.SQL("WITH {} SELECT model_id, cost FROM priced_events ORDER BY event_time").format(
            compose_sql("rollups/priced_events", price_periods=compose_sql("rollups/price_periods"))),
            {"range_start": DAY, "range_end": DAY + timedelta(days=1)}).fetchall()
        assert priced == [("m1", Decimal("0.501")), ("m2", None), (None, Decimal("0.0001"))]


def test_the_hourly_rollup_asset_fails_clearly_without_a_price_catalog(warehouse_url, tmp_path):
    import dagster as dg

    from analytics_pipeline.defs.rollups.assets import hourly_usage_rollups
    from analytics_pipeline_tests.resources import pipeline_resources

    with connect(warehouse_url) as conn:
        insert_events(conn, [ev(10, 0, "a", tokens_in=1000)])
    result = dg.materialize([hourly_usage_rollups], partition_key="2026-06-15-10:00", raise_on_error=False,
                            resources=pipeline_resources(warehouse_url, str(tmp_path)))
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert "have no price in effect: m1 from 2026-06-15 10:00 UTC" in description
    assert "materialize model_prices" in description
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_the_catalog_sensor_loads_a_missing_or_changed_catalog_once(warehouse_url, tmp_path, dagster_instance):
    import dagster as dg

    from analytics_pipeline.defs.rollups.assets import model_prices
    from analytics_pipeline.defs.rollups.sensors import price_catalog_sensor
    from analytics_pipeline_tests.resources import pipeline_resources

    catalog = tmp_path / "prices.csv"
    catalog.write_text(CATALOG)
    resources = pipeline_resources(warehouse_url, str(tmp_path), environ={"ANALYTICS_PRICE_CATALOG": str(catalog)})

    def tick():
        with dg.build_sensor_context(instance=dagster_instance, resources=resources) as context:
            return price_catalog_sensor(context)

    first = tick()  # never loaded: a new deployment
    assert isinstance(first, dg.RunRequest) and first.run_key.startswith("price-catalog-")
    assert tick().run_key == first.run_key  # the same catalog: the same run key, launched once
    dg.materialize([model_prices], instance=dagster_instance, resources=resources)
    assert isinstance(tick(), dg.SkipReason)
    catalog.write_text(CATALOG + "m9,2026-07-01T00:00:00Z,0.01,1,2\n")  # a new model priced
    changed = tick()
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key
