"""Mergeable latency distributions (issue 23): a log-bucket sketch with every hourly and daily row.

Each row of analytics_hourly_rollups, analytics_daily_rollups, analytics_endpoint_hourly_metrics and
analytics_endpoint_daily_rollups gains ``latency_sketch_keys`` / ``latency_sketch_counts``: the
requests' durations counted per bucket of 2 % width (keys ascending, no zero counts). Merging rows is
adding counts per key, so a day, a month or any range has its true percentiles within 1 %, read
from the rollups instead of the raw events (analytics_pipeline/rollups/latency.py says why a sketch
and not the exact histogram, and proves the bound).

Functions (the same definition as rollups/latency.py; a test holds them to each other):
  analytics_latency_key(duration_ms)   -> the bucket: ceil(ln(x) / ln(gamma)); 0 -> -2^31
  analytics_latency_value(key)         -> the value the bucket stands for, 2 gamma^key / (gamma + 1)
  analytics_latency_percentiles(keys, counts, fractions) -> percentile_cont's interpolation over the
                                          buckets, one answer per fraction (NULL for an empty sketch)
The constants are ln(gamma) and gamma + 1 for a design accuracy of 0.99 %, as Python prints them.

Rows written before this revision get their sketch here, from the raw events still in the warehouse
(the daily usage rows from their hours' sketches, as the daily rollup merges them): otherwise a later
restatement of one hour would merge into its day's percentiles that hour alone. Their stored exact
percentiles are left as they are. A row whose raw events retention has dropped keeps no sketch (NULL;
its window cannot be rolled up again either), and the range figures say on how many requests they rest.

"""

from alembic import op

revision = "0012"
down_revision = "0011"

TABLES = ("analytics_hourly_rollups", "analytics_daily_rollups", "analytics_endpoint_hourly_metrics",
          "analytics_endpoint_daily_rollups")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN latency_sketch_keys integer[], "
                   "ADD COLUMN latency_sketch_counts bigint[], "
                   "ADD CONSTRAINT " + table.removeprefix("analytics_") + "_latency_sketch_shape CHECK "
                   "(cardinality(latency_sketch_keys) = cardinality(latency_sketch_counts))")
        op.execute(f"COMMENT ON COLUMN {table}.latency_sketch_keys IS "
                   "'Latency sketch buckets (analytics_latency_key), ascending; merge by adding counts per key'")
    # Plain SQL bodies without STRICT, so the planner inlines the two maps into the rollup queries.
    op.execute(
        """
        CREATE FUNCTION analytics_latency_key(duration_ms double precision) RETURNS integer
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN duration_ms <= 0 THEN -2147483648
                          ELSE ceil(ln(duration_ms) / 0.019800646904042287::double precision)::integer END $$;

        CREATE FUNCTION analytics_latency_value(key integer) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN key = -2147483648 THEN 0::double precision
                          ELSE 2.0::double precision * exp(key * 0.019800646904042287::double precision)
                               / 2.01999798000202::double precision END $$;

        CREATE FUNCTION analytics_latency_percentiles(keys integer[], counts bigint[], fractions double precision[])
            RETURNS double precision[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$
            WITH buckets AS (
                SELECT key, (sum(n) OVER (ORDER BY key))::bigint AS running, (sum(n) OVER ())::bigint AS total
                FROM unnest(keys, counts) AS b(key, n)
                WHERE n > 0
            ),
            positions AS (
                SELECT f.ord, f.fraction * (t.total - 1)::double precision AS position
                FROM unnest(fractions) WITH ORDINALITY AS f(fraction, ord),
                     (SELECT max(total) AS total FROM buckets) AS t
                WHERE t.total IS NOT NULL
            )
            -- percentile_cont: lo + (hi - lo) x (position - floor(position)), the requests of
            -- ranks floor and ceil of position = fraction x (n - 1) standing at their bucket's value
            SELECT array_agg(low.value + (high.value - low.value) * (p.position - floor(p.position)) ORDER BY p.ord)
            FROM positions AS p
            CROSS JOIN LATERAL (SELECT analytics_latency_value(min(key)) AS value FROM buckets
                                WHERE running > floor(p.position)) AS low
            CROSS JOIN LATERAL (SELECT analytics_latency_value(min(key)) AS value FROM buckets
                                WHERE running > ceil(p.position)) AS high
        $$;
        """
    )
    for table, grain, columns, join in BACKFILLS:
        op.execute(BACKFILL_FROM_EVENTS.format(table=table, grain=grain, columns=columns, join=join))
    op.execute(BACKFILL_DAILY_FROM_HOURLY)


# The sketch of existing rows: the raw events' durations counted per (bucket of the row, bucket of latency).
BACKFILL_FROM_EVENTS = """
    UPDATE {table} AS r
    SET latency_sketch_keys = s.latency_sketch_keys, latency_sketch_counts = s.latency_sketch_counts
    FROM (
        SELECT bucket_start, group_key, endpoint_key,
               array_agg(latency_key ORDER BY latency_key) AS latency_sketch_keys,
               array_agg(request_count ORDER BY latency_key) AS latency_sketch_counts
        FROM (SELECT date_bin('{grain}', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
                     {columns}, analytics_latency_key(duration_ms) AS latency_key, count(*) AS request_count
              FROM analytics_events
              WHERE duration_ms IS NOT NULL
              GROUP BY 1, 2, 3, 4) AS buckets
        GROUP BY 1, 2, 3
    ) AS s
    WHERE r.bucket_start = s.bucket_start AND {join}
"""
BACKFILLS = (
    ("analytics_hourly_rollups", "1 hour", "organization_id AS group_key, coalesce(model_id, '') AS endpoint_key",
     "r.organization_id = s.group_key AND coalesce(r.model_id, '') = s.endpoint_key"),
    ("analytics_endpoint_daily_rollups", "1 day",
     "organization_id AS group_key, coalesce(endpoint, '(none)') AS endpoint_key",
     "r.organization_id = s.group_key AND r.endpoint = s.endpoint_key"),
    ("analytics_endpoint_hourly_metrics", "1 hour",
     "organization_id AS group_key, coalesce(endpoint, '(none)') AS endpoint_key",
     "r.organization_id = s.group_key AND r.endpoint = s.endpoint_key"),
    # the every-organization rows (organization_id NULL)
    ("analytics_endpoint_hourly_metrics", "1 hour", "'' AS group_key, coalesce(endpoint, '(none)') AS endpoint_key",
     "r.organization_id IS NULL AND s.group_key = '' AND r.endpoint = s.endpoint_key"),
)
BACKFILL_DAILY_FROM_HOURLY = """
    UPDATE analytics_daily_rollups AS r
    SET latency_sketch_keys = s.latency_sketch_keys, latency_sketch_counts = s.latency_sketch_counts
    FROM (
        SELECT bucket_start, organization_id, model_key,
               array_agg(latency_key ORDER BY latency_key) AS latency_sketch_keys,
               array_agg(request_count ORDER BY latency_key) AS latency_sketch_counts
        FROM (SELECT date_bin('1 day', h.bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
                     h.organization_id, coalesce(h.model_id, '') AS model_key, b.latency_key,
                     sum(b.request_count)::bigint AS request_count
              FROM analytics_hourly_rollups AS h
              CROSS JOIN LATERAL unnest(h.latency_sketch_keys, h.latency_sketch_counts) AS b(latency_key, request_count)
              GROUP BY 1, 2, 3, 4) AS buckets
        GROUP BY 1, 2, 3
    ) AS s
    WHERE r.bucket_start = s.bucket_start AND r.organization_id = s.organization_id
      AND coalesce(r.model_id, '') = s.model_key
"""


def downgrade() -> None:
    op.execute("DROP FUNCTION analytics_latency_percentiles(integer[], bigint[], double precision[]), "
               "analytics_latency_value(integer), analytics_latency_key(double precision)")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN latency_sketch_keys, DROP COLUMN latency_sketch_counts")
