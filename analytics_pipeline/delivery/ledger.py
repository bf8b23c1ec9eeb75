"""What the ingest ledger knows per event hour (``analytics_ingested_event_hours``, filled by the
usage-log loader), for the domains that must follow the events: which hours their tables lag."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg import sql

from analytics_pipeline.warehouse.sql import compose_sql


def hours_behind_ledger(conn: psycopg.Connection, hours: Iterable[datetime],
                        measured: sql.Composable) -> list[datetime]:
    """The hours among ``hours`` whose requests as ``measured`` counts them (a query of
    ``bucket_start, requests`` over ``%(hours)s``) differ from the events the ledger holds for
    them, oldest first (see sql/delivery/hours_behind_ledger.sql)."""
    hours = list(hours)
    if not hours:
        return []
    query = compose_sql("delivery/hours_behind_ledger", measured=measured)
    return [hour for (hour,) in conn.execute(query, {"hours": hours})]
