"""Migration 0003: the cost tables and the dashboard views, up and down."""

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.migrate import current_revision, downgrade, upgrade

COST_TABLES = {"analytics_infra_costs", "analytics_tenant_cost_attribution", "analytics_tenant_profitability"}
VIEWS = {"analytics_view_daily_usage", "analytics_view_daily_performance", "analytics_view_daily_costs",
         "analytics_view_infra_costs_by_service", "analytics_view_monthly_profitability"}


def _relations(url, kind):
    with connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'analytics' AND c.relkind = %s", (kind,))}


def test_cost_tables_and_views_install_and_remove(empty_database_url):
    upgrade(empty_database_url, "0003")
    assert current_revision(empty_database_url) == "0003"
    assert COST_TABLES <= _relations(empty_database_url, "r")
    assert VIEWS <= _relations(empty_database_url, "v")
    with connect(empty_database_url) as conn:
        for view in VIEWS:  # every view is queryable on empty tables
            conn.execute(f"SELECT * FROM {view}").fetchall()  # noqa: S608 - fixed names
    downgrade(empty_database_url, "0002")
    assert not (COST_TABLES & _relations(empty_database_url, "r"))
    assert not (VIEWS & _relations(empty_database_url, "v"))
    upgrade(empty_database_url)
    assert VIEWS <= _relations(empty_database_url, "v")
