"""warehouse.sql.fetch_rows / fetch_row: a query (a file under sql/, or composed SQL) into its row type."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from psycopg import sql

from analytics_pipeline.retention.raw_archive import ArchiveEntry
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.sql import fetch_row, fetch_rows

DAY = date(2026, 3, 1)
AT = datetime(2026, 3, 9, 2, tzinfo=UTC)
SHA = "ab" * 32


@dataclass(frozen=True)
class Pair:
    number: int
    label: str | None


def test_a_named_query_comes_back_in_its_row_type(warehouse_url):
    with connect(warehouse_url) as conn:
        assert fetch_rows(conn, "retention/raw_archive_ledger", {"last_day": DAY}, ArchiveEntry) == []
        conn.execute("INSERT INTO analytics_raw_archives (day, location, object_key, row_count, sha256, bytes, "
                     "archived_at, verified_at) VALUES (%s, 's3://archive', 'raw_events/day.parquet', 12, %s, 345, "
                     "%s, %s)", (DAY, SHA, AT, AT))
        [entry] = fetch_rows(conn, "retention/raw_archive_ledger", {"last_day": DAY}, ArchiveEntry)
    assert entry == ArchiveEntry(DAY, "s3://archive", "raw_events/day.parquet", 12, SHA, 345, AT, AT)


def test_composed_sql_and_one_row(warehouse_url):
    query = sql.SQL("SELECT n, CASE WHEN n > 1 THEN 'many' END FROM generate_series(1, %(last)s) AS n ORDER BY n")
    with connect(warehouse_url) as conn:
        assert fetch_rows(conn, query, {"last": 2}, Pair) == [Pair(1, None), Pair(2, "many")]
        assert fetch_row(conn, query, {"last": 2}, Pair) == Pair(1, None)
        assert fetch_row(conn, query, {"last": 0}, Pair) is None
