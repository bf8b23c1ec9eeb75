"""The Great Expectations check on one delivery hour of raw events, against one plain SQL query.

    .venv/bin/python benchmarks/expectations.py [--events 100000] [--other-days 2] [--keep]

Generates a day of usage logs (the project's generator) and re-keys every object into ONE
delivery hour (the day's last), so that hour holds ``--events`` events, plus ``--other-days``
ordinary days delivered around it that the check must skip; loads them all with the
ObjectLoader into a throwaway embedded PostgreSQL. Then times, in one run:

  (a) ``validate_raw_events`` on that hour: the GX suite, every metric pushed down to SQL;
  (b) the baseline: one plain SQL query counting the violations of the same rules on the
      same rows (the GX query asset's own SQL, wrapped in one aggregate);
  (c) ``import great_expectations`` in a fresh interpreter (paid once per process, not in (a)).

Both (a) and (b) run twice; the second (warm cache) run is reported.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.ingestion.contract import EventValidator  # noqa: E402
from analytics_pipeline.ingestion.expectations import (  # noqa: E402
    MAX_FINITE_DOUBLE,
    raw_event_expectations,
    validate_raw_events,
    window_query,
)
from analytics_pipeline.ingestion.loader import ObjectLoader  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from analytics_pipeline.warehouse.sql import load_sql  # noqa: E402
from benchmarks._common import log, print_server_settings, print_table, rate, throwaway_postgres, timed  # noqa: E402

# The same rules as the suite, as one aggregate over the GX query asset's rows. (The event-time
# window is the suite's, for retention 400 days and a 1-day clock skew.)
BASELINE = """
WITH window_events AS MATERIALIZED ({query}),
     key_counts AS (SELECT count(*) AS n FROM window_events GROUP BY organization_id, request_id)
SELECT count(*) AS rows_checked,
       count(*) FILTER (WHERE organization_id IS NULL) AS organization_id_not_null,
       count(*) FILTER (WHERE organization_id !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]*$') AS organization_id_well_formed,
       count(*) FILTER (WHERE length(organization_id) NOT BETWEEN 1 AND 128) AS organization_id_length,
       count(*) FILTER (WHERE request_id IS NULL) AS request_id_not_null,
       count(*) FILTER (WHERE length(request_id) NOT BETWEEN 1 AND 256) AS request_id_length,
       count(*) FILTER (WHERE request_id !~ '\\S') AS request_id_not_blank,
       (SELECT coalesce(sum(n), 0) FROM key_counts WHERE n > 1) AS request_id_unique_per_organization,
       count(*) FILTER (WHERE event_time IS NULL) AS event_time_not_null,
       count(*) FILTER (WHERE seconds_after_delivery_hour NOT BETWEEN -400 * 86400 AND 3600 + 86400)
           AS event_time_within_contract_window,
       count(*) FILTER (WHERE NOT event_time_whole_milliseconds) AS event_time_whole_milliseconds,
       count(*) FILTER (WHERE status_code NOT BETWEEN 100 AND 599) AS status_code_in_http_range,
       count(*) FILTER (WHERE duration_ms NOT BETWEEN 0 AND {max_double}) AS duration_ms_non_negative,
       count(*) FILTER (WHERE queue_wait_ms NOT BETWEEN 0 AND {max_double}) AS queue_wait_ms_non_negative,
       count(*) FILTER (WHERE tokens_consumed < 0) AS tokens_consumed_non_negative,
       count(*) FILTER (WHERE tokens_input < 0) AS tokens_input_non_negative,
       count(*) FILTER (WHERE tokens_output < 0) AS tokens_output_non_negative,
       count(*) FILTER (WHERE content_hash IS NULL) AS content_hash_not_null,
       count(*) FILTER (WHERE content_hash !~ '^[0-9a-f]+$') AS content_hash_is_hex,
       count(*) FILTER (WHERE length(content_hash) <> 32) AS content_hash_is_md5_length,
       count(*) FILTER (WHERE attributes_json_type <> 'object') AS attributes_is_json_object
FROM window_events
"""

def load(url: str, store: LocalDirectoryStore, events: int, other_days: int) -> tuple[datetime, int]:
    """Write and ingest the data; return the crowded delivery hour and its event count."""
    day = date.today() - timedelta(days=other_days + 3)
    crowded_hour = datetime(day.year, day.month, day.day, 23, tzinfo=UTC)

    def rekey(key: str, data: bytes) -> None:  # every object of the day, delivered in its last hour
        store.write(f"{crowded_hour:%Y/%m/%d/%H}/{key.rsplit('/', 1)[1]}", data)

    def generate(write, per_hour: int):
        return generate_usage_logs(write, start=day, days=1, orgs=50, models=6, events_per_hour=per_hour, seed=5)

    # The daily cycle and weekday factor move a day's total off 24 x events_per_hour: measure, rescale.
    trial = generate(lambda key, data: None, max(1, round(events / 24))).valid_events
    crowded = generate(rekey, max(1, round(events / 24 * events / max(trial, 1))))
    if other_days:
        generate_usage_logs(lambda key, data: store.write(key, data), start=day + timedelta(days=1),
                            days=other_days, orgs=50, models=6, events_per_hour=max(1, round(events / 24)), seed=6)
    with connect(url) as conn, connect(url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=datetime.now(UTC)), run_id="benchmark")
        for obj in store.list():
            loader.ingest(store, obj)
    return crowded_hour, crowded.valid_events


def baseline(url: str, start: datetime, end: datetime) -> dict[str, int]:
    with connect(url) as conn:
        events_from, events_to, _objects, _accepted = conn.execute(
            load_sql("ingestion/event_time_range_of_delivery_window"),
            {"source": "usage_logs", "range_start": start, "range_end": end}).fetchone()
        query = window_query(start, end, events_from, events_to)
        cursor = conn.execute(BASELINE.format(query=query, max_double=repr(MAX_FINITE_DOUBLE)))
        return dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import great_expectations; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--other-days", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    with throwaway_postgres(keep=args.keep) as pg:
        url = pg.create_database("bench_expectations")
        with connect(url) as conn:
            print_server_settings(conn)
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        with timed("generate and ingest (not measured)"):
            hour, expected = load(url, store, args.events, args.other_days)
        with connect(url) as conn:
            conn.execute("ANALYZE")
            total = conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0]
        log(f"{expected:,} events delivered in {hour:%Y-%m-%d %H}:00 UTC; {total:,} events in the warehouse")
        end = hour + timedelta(hours=1)

        with timed("GX import in a fresh interpreter"):
            gx_import = import_seconds()
        for attempt in ("cold", "warm"):
            with timed(f"(a) GX suite, {attempt}"):
                validation = validate_raw_events(url, hour, end)
            with timed(f"(b) one SQL query, {attempt}") as sql_timer:
                counts = baseline(url, hour, end)

    assert validation.rows_checked == counts["rows_checked"] == expected, (validation.rows_checked, counts, expected)
    gx_counts = {o.name: o.unexpected_count or 0 for o in validation.outcomes}
    same = all(gx_counts[e.name] == counts[e.name] for e in raw_event_expectations())
    print()
    print_table(["path", "rows", "seconds", "rows/s", "vs (b)"], [
        ["(a) GX suite (SQL pushdown), warm", f"{validation.rows_checked:,}", f"{validation.seconds:.2f}",
         rate(validation.rows_checked, validation.seconds), f"{validation.seconds / sql_timer.seconds:.1f}x"],
        ["(b) one plain SQL query, warm", f"{counts['rows_checked']:,}", f"{sql_timer.seconds:.2f}",
         rate(counts["rows_checked"], sql_timer.seconds), "1.0x"],
        ["(c) import great_expectations", "", f"{gx_import:.2f}", "", ""],
    ])
    print(f"\n{validation.evaluated} expectations, {validation.failed} failed; the violation counts of (a) and (b) "
          f"{'agree' if same else 'DIFFER'}")
    return 0 if same and validation.success else 1


if __name__ == "__main__":
    sys.exit(main())
