"""Feature adoption per day: which organizations and users use each endpoint, agent type and tool.

Per organization and day (``analytics_org_feature_usage_daily``): requests and distinct users of
each feature; platform-wide (``analytics_feature_adoption_daily``): the organizations and users
that used it, and the share of the day's active organizations that did. An organization's
**first use** of a feature is the first day it has a row for it (the view
``analytics_view_feature_first_use``, always in step with the rows). A window of days is replaced
whole in one transaction; the activity of the same days must be computed first (the share's
denominator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from analytics_pipeline.metrics.activity import day_bounds, execute_by_day, refuse_dropped_days, set_work_mem
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

FEATURE_KINDS = ("endpoint", "agent_type", "tool")


@dataclass(frozen=True)
class FeatureAdoption:
    feature_kind: str
    feature: str
    organizations: int
    users: int
    request_count: int
    active_organizations: int
    organization_share: float


@dataclass(frozen=True)
class FirstUse:
    organization_id: str
    feature_kind: str
    feature: str
    first_used_on: date


@dataclass(frozen=True)
class AdoptionSummary:
    organization_feature_days: int
    last_day: date
    features: list[FeatureAdoption]  # on the last day, the most widely adopted first
    first_uses: list[FirstUse]  # first uses ever that fall in the window


def replace_feature_adoption(conn: psycopg.Connection, start: datetime, end: datetime, *,
                             work_mem: str | None = None) -> AdoptionSummary:
    """Recompute the feature adoption of the days of ``[start, end)`` in one transaction."""
    first_day, end_day = day_bounds(start, end)
    params = {"range_start": start, "range_end": end, "first_day": first_day, "end_day": end_day}
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        set_work_mem(conn, work_mem)
        conn.execute(load_sql("metrics/delete_feature_usage"), params)
        rows = execute_by_day(conn, load_sql("metrics/insert_org_feature_usage"), params, start, end)
        conn.execute(load_sql("metrics/insert_feature_adoption"), params)
        last_day = date.fromordinal(end_day.toordinal() - 1)
        features = fetch_rows(conn, "metrics/feature_adoption_on_day", {"day": last_day}, FeatureAdoption)
        first_uses = fetch_rows(conn, "metrics/feature_first_uses_in_window", params, FirstUse)
    return AdoptionSummary(rows, last_day, features, first_uses)
