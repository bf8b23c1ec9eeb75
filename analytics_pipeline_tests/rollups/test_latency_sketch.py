"""The latency sketches (rollups/latency.py, migration 0012) against the exact percentile_cont.

Property tests draw durations, split them into hours and rows at random, merge the sketches in
PostgreSQL and hold every merged percentile to within 1 % of percentile_cont over the same values.
"""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.rollups.latency import (
    RELATIVE_ERROR,
    ZERO_KEY,
    bucket_value,
    sketch_key,
    sketch_of,
    sketch_percentile,
)
from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, range_latency, replace_usage_rollups, whole_days
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.event_rows import insert_events

FRACTIONS = (0.50, 0.95, 0.99)
DAY = datetime(2026, 6, 15, tzinfo=UTC)
CATALOG = "model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens\n" \
          "*,2025-01-01T00:00:00Z,0.0001,0.1,0.2\n"

# Durations as they come: whole milliseconds, fractions to the microsecond, zeros, and a heavy tail.
durations = st.one_of(
    st.integers(min_value=0, max_value=120_000).map(float),
    st.floats(min_value=0.001, max_value=3_600_000.0, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1.0, max_value=200.0).map(lambda x: round(x, 3)),
    st.just(0.0),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def sql_conn(warehouse_url):
    """A connection for queries over bound values alone (no table is written)."""
    with connect(warehouse_url, autocommit=True) as conn:
        yield conn


def exact(conn, values: list[float]) -> list[float]:
    return list(conn.execute(
        "SELECT percentile_cont(0.50) WITHIN GROUP (ORDER BY v), percentile_cont(0.95) WITHIN GROUP (ORDER BY v), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY v) FROM unnest(%s::double precision[]) AS v",
        (values,)).fetchone())


def merged_in_sql(conn, groups: list[list[float]]) -> list[float]:
    """Each group sketched by PostgreSQL as the rollups do, the sketches merged by adding counts per key."""
    return conn.execute(
        """
        WITH rows AS (
            SELECT g.ordinality AS row_id, analytics_latency_key(v) AS latency_key, count(*) AS n
            FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS g(values_of_row, ordinality)
            CROSS JOIN LATERAL jsonb_array_elements_text(g.values_of_row) AS t(value)
            CROSS JOIN LATERAL (SELECT t.value::double precision AS v) AS d
            GROUP BY 1, 2
        ),
        sketches AS (
            SELECT array_agg(latency_key ORDER BY latency_key) AS k, array_agg(n ORDER BY latency_key) AS c
            FROM rows GROUP BY row_id
        ),
        merged AS (
            SELECT b.key, sum(b.n)::bigint AS n FROM sketches, unnest(k, c) AS b(key, n) GROUP BY b.key
        )
        SELECT analytics_latency_percentiles(array_agg(key), array_agg(n), %s::double precision[]) FROM merged
        """, (_json(groups), list(FRACTIONS))).fetchone()[0]


def _json(groups: list[list[float]]) -> str:
    return "[" + ",".join("[" + ",".join(repr(v) for v in group) + "]" for group in groups) + "]"


def assert_within(merged: list[float], truth: list[float]) -> None:
    for got, want in zip(merged, truth, strict=True):
        assert got == pytest.approx(want, rel=RELATIVE_ERROR, abs=1e-12), (merged, truth)


@SETTINGS
@given(values=st.lists(durations, min_size=1, max_size=300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_merged_sketches_hold_to_the_exact_percentile_cont(sql_conn, values, cuts):
    bounds = sorted({0, len(values), *(c for c in cuts if c < len(values))})
    groups = [values[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    truth = exact(sql_conn, values)
    merged = merged_in_sql(sql_conn, groups)
    assert_within(merged, truth)
    # The Python definition reads the same answer off the same sketch.
    python = [sketch_percentile(sketch_of(values), f) for f in FRACTIONS]
    assert python == pytest.approx(merged, rel=1e-12, abs=1e-12)


@SETTINGS
@given(value=durations)
def test_sql_and_python_put_a_duration_in_the_same_bucket(sql_conn, value):
    key, stands_for = sql_conn.execute(
        "SELECT analytics_latency_key(%s::double precision), analytics_latency_value(analytics_latency_key(%s))",
        (value, value)).fetchone()
    assert key == sketch_key(value)
    assert stands_for == bucket_value(key)
    assert stands_for == pytest.approx(value, rel=RELATIVE_ERROR, abs=0.0)


def test_bucket_edges_and_empty_sketches(sql_conn):
    assert sketch_key(0.0) == ZERO_KEY and bucket_value(ZERO_KEY) == 0.0
    assert sql_conn.execute("SELECT analytics_latency_percentiles('{}', '{}', ARRAY[0.5]::float8[]), "
                            "analytics_latency_key(NULL)").fetchone() == (None, None)
    assert sketch_percentile({}, 0.5) is None
    # one request: every percentile is its bucket's value
    assert merged_in_sql(sql_conn, [[250.0]]) == [bucket_value(sketch_key(250.0))] * 3


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        yield conn


def raw_exact(conn, start, end, organization_id="org-a") -> list[float]:
    return list(conn.execute(
        "SELECT percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM analytics_events "
        "WHERE organization_id = %s AND event_time >= %s AND event_time < %s",
        (organization_id, start, end)).fetchone())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.integers(0, 3 * 24 - 1), st.sampled_from(["m1", "m2", None]),
                                 st.sampled_from(["org-a", "org-b"]), durations), min_size=1, max_size=150),
       first_hour=st.integers(0, 3 * 24 - 1), hours=st.integers(1, 3 * 24))
def test_rollups_and_any_range_hold_to_the_raw_events(conn, events, first_hour, hours):
    conn.execute("TRUNCATE analytics_events, analytics_hourly_rollups, analytics_daily_rollups")
    conn.commit()
    insert_events(conn, [(DAY + timedelta(hours=h, seconds=i), org, f"r{i}", model, 200, d, None, 1, 1)
                         for i, (h, model, org, d) in enumerate(events)])
    window = (DAY, DAY + timedelta(days=3))
    replace_usage_rollups(conn, Granularity.HOURLY, *window)
    replace_usage_rollups(conn, Granularity.DAILY, *window)
    # The hourly rows keep their exact percentiles, and their own sketch reads the same within 1 %.
    for p50, p95, p99, merged in conn.execute(
            "SELECT latency_p50_ms, latency_p95_ms, latency_p99_ms, analytics_latency_percentiles("
            "latency_sketch_keys, latency_sketch_counts, ARRAY[0.5, 0.95, 0.99]::float8[]) "
            "FROM analytics_hourly_rollups").fetchall():
        assert_within(merged, [p50, p95, p99])
    # Every daily row against its day's raw events.
    for day, org, model, p50, p95, p99 in conn.execute(
            "SELECT bucket_start, organization_id, model_id, latency_p50_ms, latency_p95_ms, latency_p99_ms "
            "FROM analytics_daily_rollups").fetchall():
        truth = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms) FROM analytics_events "
            "WHERE organization_id = %s AND model_id IS NOT DISTINCT FROM %s AND event_time >= %s "
            "AND event_time < %s + interval '1 day'", (org, model, day, day)).fetchone()[0]
        assert_within([p50, p95, p99], truth)
    # Any range, whole days or not: the merged answer against the range's raw events.
    start = DAY + timedelta(hours=first_hour)
    end = min(start + timedelta(hours=hours), window[1])
    answer = range_latency(conn, "org-a", start, end)
    requests = conn.execute("SELECT count(*) FROM analytics_events WHERE organization_id = 'org-a' "
                            "AND event_time >= %s AND event_time < %s", (start, end)).fetchone()[0]
    assert answer.request_count == requests
    if requests:
        assert_within([answer.latency_p50_ms, answer.latency_p95_ms, answer.latency_p99_ms],
                      raw_exact(conn, start, end))
    else:
        assert (answer.latency_p50_ms, answer.latency_p95_ms, answer.latency_p99_ms) == (None, None, None)
    conn.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["m1", "", None]),
                                 st.sampled_from(["org-a", "org-b"]), st.one_of(durations, st.none())),
                       min_size=1, max_size=120))
def test_the_hourly_rows_keep_percentile_cont_to_the_last_bit(conn, events):
    # The hourly rollup reads p50/p95/p99 off its one sorted pass with percentile_cont's arithmetic, and
    # counts its sketch in the same pass: both against percentile_cont and a GROUP BY of the raw events,
    # per (hour, organization, model), with equality, not a tolerance (NULL durations count in neither).
    conn.execute("TRUNCATE analytics_events, analytics_hourly_rollups")
    conn.commit()
    insert_events(conn, [(DAY + timedelta(hours=h, seconds=i), org, f"r{i}", model, 200, d, None, 1, 1)
                         for i, (h, model, org, d) in enumerate(events)])
    replace_usage_rollups(conn, Granularity.HOURLY, DAY, DAY + timedelta(hours=3))
    stored = conn.execute(
        "SELECT bucket_start, organization_id, model_id, request_count, latency_p50_ms, latency_p95_ms, "
        "latency_p99_ms, latency_sketch_keys, latency_sketch_counts FROM analytics_hourly_rollups "
        "ORDER BY 1, 2, 3 NULLS FIRST").fetchall()
    truth = conn.execute(
        """
        WITH buckets AS (
            SELECT date_trunc('hour', event_time) AS hour, organization_id, model_id,
                   analytics_latency_key(duration_ms) AS latency_key, count(*) AS n
            FROM analytics_events WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4
        ),
        sketches AS (
            SELECT hour, organization_id, model_id, array_agg(latency_key ORDER BY latency_key) AS keys,
                   array_agg(n ORDER BY latency_key) AS counts
            FROM buckets GROUP BY 1, 2, 3
        )
        SELECT e.hour, e.organization_id, e.model_id, e.requests, e.p50, e.p95, e.p99, s.keys, s.counts
        FROM (SELECT date_trunc('hour', event_time) AS hour, organization_id, model_id, count(*) AS requests,
                     percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                     percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
                     percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
              FROM analytics_events GROUP BY 1, 2, 3) AS e
        LEFT JOIN sketches AS s
               ON s.hour = e.hour AND s.organization_id = e.organization_id
              AND s.model_id IS NOT DISTINCT FROM e.model_id
        ORDER BY 1, 2, 3 NULLS FIRST
        """).fetchall()
    assert stored == truth
    conn.commit()


def test_whole_days_of_a_range():
    assert whole_days(DAY, DAY + timedelta(days=2)) == (DAY, DAY + timedelta(days=2))
    assert whole_days(DAY + timedelta(hours=5), DAY + timedelta(days=2, hours=1)) == (
        DAY + timedelta(days=1), DAY + timedelta(days=2))
    start = DAY + timedelta(hours=5)
    assert whole_days(start, DAY + timedelta(hours=20)) == (start, start)


def test_the_daily_rows_read_their_sketch_as_the_sql_function_does(conn):
    # The daily rollup reads its percentiles set-based; analytics_latency_percentiles reads one sketch at a
    # time (the range queries): the two are the same definition, to the last bit.
    insert_events(conn, [(DAY + timedelta(hours=i % 24, seconds=i), f"org-{i % 3}", f"r{i}", None, 200,
                          float((i * 7919) % 5000) / 7, None, 1, 1) for i in range(600)])
    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        replace_usage_rollups(conn, granularity, DAY, DAY + timedelta(days=1))
    rows = conn.execute(
        "SELECT ARRAY[latency_p50_ms, latency_p95_ms, latency_p99_ms], analytics_latency_percentiles("
        "latency_sketch_keys, latency_sketch_counts, ARRAY[0.5, 0.95, 0.99]::float8[]) "
        "FROM analytics_daily_rollups").fetchall()
    assert len(rows) == 3 and all(stored == read for stored, read in rows)


def test_the_migration_gives_rows_written_before_it_their_sketch(conn, warehouse_url):
    # Rows rolled up before migration 0012 have no sketch columns: downgrading drops them, upgrading
    # recomputes them from the raw events (the daily usage rows from their hours), as the rollups would.
    from analytics_pipeline.metrics.sre import replace_endpoint_metrics
    from analytics_pipeline.rollups.usage import replace_endpoint_rollups
    from analytics_pipeline.warehouse.migrate import downgrade, upgrade

    insert_events(conn, [(DAY + timedelta(hours=i % 30, seconds=i), f"org-{i % 2}", f"r{i}",
                          None if i % 3 == 0 else "m1", 200, float(i % 97) * 3.3, None, 1, 1) for i in range(400)])
    conn.execute("UPDATE analytics_events SET endpoint = CASE WHEN request_id < 'r2' THEN '/v1/chat' END")
    conn.commit()
    window = (DAY, DAY + timedelta(days=2))
    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        replace_usage_rollups(conn, granularity, *window)
    replace_endpoint_rollups(conn, *window)
    replace_endpoint_metrics(conn, *window)
    tables = {"analytics_hourly_rollups": "model_id", "analytics_daily_rollups": "model_id",
              "analytics_endpoint_daily_rollups": "endpoint", "analytics_endpoint_hourly_metrics": "endpoint"}

    def sketches():
        return {table: sorted(conn.execute(
            f"SELECT bucket_start, organization_id, {column}, latency_sketch_keys, latency_sketch_counts "  # noqa: S608
            f"FROM {table}").fetchall(), key=repr) for table, column in tables.items()}

    rolled_up = sketches()
    assert all(rows and all(r[3] for r in rows) for rows in rolled_up.values())
    conn.commit()
    downgrade(warehouse_url, "0011")
    upgrade(warehouse_url)
    assert sketches() == rolled_up


def test_a_day_without_its_daily_rows_is_merged_from_its_hours(conn):
    # The daily rollup of the range's last day has not run: range_latency merges that day's hourly rows, so
    # the answer rests on every request of the range (the daily rows of the first day still answer for it).
    insert_events(conn, [(DAY + timedelta(hours=i % 48, seconds=i), "org-a", f"r{i}", "m1" if i % 2 else None,
                          200, float((i * 7919) % 3000) / 3, None, 1, 1) for i in range(480)])
    window = (DAY, DAY + timedelta(days=2))
    for granularity in (Granularity.HOURLY, Granularity.DAILY):
        replace_usage_rollups(conn, granularity, *window)
    conn.execute("DELETE FROM analytics_daily_rollups WHERE bucket_start = %s", (DAY + timedelta(days=1),))
    answer = range_latency(conn, "org-a", *window)
    assert answer.request_count == 480
    assert_within([answer.latency_p50_ms, answer.latency_p95_ms, answer.latency_p99_ms], raw_exact(conn, *window))
    # With both days rolled up the daily rows answer, and no hour is counted twice.
    replace_usage_rollups(conn, Granularity.DAILY, *window)
    assert range_latency(conn, "org-a", *window) == answer

