"""Per-tenant cost attribution: infrastructure costs, attribution, profitability, dashboard views (issue 6).


The views are defined once, in ``sql/views/``; this migration installs them from there.
A later change to a view goes in a new migration that runs its ``CREATE OR REPLACE VIEW``.
"""

from alembic import op

from analytics_pipeline.warehouse.sql import load_sql

revision = "0003"
down_revision = "0002"

#: In creation order (each may read the ones before); dropped in reverse.
VIEWS = (
    "analytics_view_daily_usage",
    "analytics_view_daily_performance",
    "analytics_view_daily_costs",
    "analytics_view_infra_costs_by_service",
    "analytics_view_monthly_profitability",
)


def upgrade() -> None:
    op.execute(
        """
        -- One row per (UTC day, tenant, service); organization_id NULL is untagged cost, shared by everyone.
        CREATE TABLE analytics_infra_costs (
            usage_date       date        NOT NULL,
            organization_id  text,
            service          text        NOT NULL,
            amount           numeric     NOT NULL,
            currency         text        NOT NULL,
            estimated        boolean     NOT NULL DEFAULT false,
            source           text        NOT NULL CHECK (source IN ('cost_explorer', 'focus')),
            cost_metric      text        NOT NULL,
            run_id           text,
            loaded_at        timestamptz NOT NULL DEFAULT now(),
            CHECK (organization_id IS NULL OR organization_id <> '')
        );
        CREATE UNIQUE INDEX analytics_infra_costs_key
            ON analytics_infra_costs (usage_date, coalesce(organization_id, ''), service);
        CREATE INDEX analytics_infra_costs_org ON analytics_infra_costs (organization_id, usage_date);

        -- Each tenant's share of a day's infrastructure cost, in cents; the day's rows sum exactly to its
        -- total rounded to the cent. organization_id NULL: shared cost no usage carried ('unattributed').
        CREATE TABLE analytics_tenant_cost_attribution (
            usage_date         date          NOT NULL,
            organization_id    text,
            direct_cost        numeric       NOT NULL,
            shared_cost_exact  numeric       NOT NULL,
            attributed_cost    numeric(18,2) NOT NULL,
            driver             text          NOT NULL CHECK (driver IN ('tokens', 'requests', 'duration')),
            driver_value       numeric       NOT NULL CHECK (driver_value >= 0),
            driver_share       numeric       NOT NULL CHECK (driver_share BETWEEN 0 AND 1),
            request_count      bigint        NOT NULL,
            status             text          NOT NULL CHECK (status IN (
                                   'attributed', 'cost_without_usage', 'usage_without_direct_cost', 'unattributed')),
            currency           text          NOT NULL,
            run_id             text,
            computed_at        timestamptz   NOT NULL DEFAULT now(),
            CHECK ((organization_id IS NULL) = (status = 'unattributed'))
        );
        CREATE UNIQUE INDEX analytics_tenant_cost_attribution_key
            ON analytics_tenant_cost_attribution (usage_date, coalesce(organization_id, ''));
        CREATE INDEX analytics_tenant_cost_attribution_org
            ON analytics_tenant_cost_attribution (organization_id, usage_date);

        -- Revenue against attributed cost per month (or month to date) and tenant.
        CREATE TABLE analytics_tenant_profitability (
            period_start       date          NOT NULL,
            period_end         date          NOT NULL,
            is_month_to_date   boolean       NOT NULL,
            organization_id    text,
            revenue            numeric       NOT NULL,
            attributed_cost    numeric(18,2) NOT NULL,
            margin             numeric       NOT NULL,
            margin_pct         numeric(12,2),
            request_count      bigint        NOT NULL,
            tokens_total       bigint        NOT NULL,
            currency           text          NOT NULL,
            run_id             text,
            computed_at        timestamptz   NOT NULL DEFAULT now(),
            CHECK (period_end > period_start),
            CHECK (margin = revenue - attributed_cost)
        );
        CREATE UNIQUE INDEX analytics_tenant_profitability_key
            ON analytics_tenant_profitability (period_start, coalesce(organization_id, ''));
        """
    )
    for view in VIEWS:
        op.execute(load_sql(f"views/{view}"))


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute(
        """
        DROP TABLE analytics_tenant_profitability;
        DROP TABLE analytics_tenant_cost_attribution;
        DROP TABLE analytics_infra_costs;
        """
    )
