"""Raw events of one endpoint written straight into the warehouse, for the platform alert tests."""

from datetime import datetime, timedelta

from analytics_pipeline_tests.event_rows import insert_events

COLUMNS = ("event_time", "organization_id", "request_id", "endpoint", "status_code", "duration_ms")


def insert_endpoint_events(conn, *, endpoint: str, start: datetime, count: int, status: int = 200,
                           spacing: timedelta = timedelta(seconds=1), organization: str = "org-a",
                           duration_ms: float = 120.0, prefix: str | None = None) -> None:
    """``count`` events of ``endpoint`` from ``start``, ``spacing`` apart, answered ``status``; commits."""
    prefix = prefix or f"{endpoint}-{status}-{start:%H%M%S}"
    rows = [(start + spacing * n, organization, f"{prefix}-{n}", endpoint, status, duration_ms) for n in range(count)]
    insert_events(conn, rows, COLUMNS)
