"""Business, customer and SRE metrics (issue 14): end users and error types on the events, cost
attribution true to the environment and service tags.

``analytics_events`` gains two nullable columns, ``user_id`` (the tenant's end user, bytewise
collation like the other identifiers of 0006) and ``error_type``. Adding a nullable column
without a default to the partitioned table is a catalog change only: no partition is
rewritten or scanned, whatever the warehouse's size, and existing rows read NULL. It still
takes a brief ACCESS EXCLUSIVE lock on the table and each partition, so it waits for an
ingest transaction in progress (and holds up the next one for that moment) rather than
running alongside it.

Infrastructure costs keep their ``environment`` (production / staging / untagged), ``service``
tag and cost category (compute / api / data_transfer / storage / other); rows loaded before
this revision were all attributed, so they become production (category ``other`` until their
day is reloaded). Attribution and profitability rows gain one column per category; existing
rows put their whole cost in ``other``, so the categories always add up to the cost (a CHECK
on profitability, whose categories are cents).

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE analytics_events
            ADD COLUMN user_id text COLLATE "C",
            ADD COLUMN error_type text;
        COMMENT ON COLUMN analytics_events.user_id IS
            'The tenant''s end user who made the request (event field user_id); NULL when the event names none';
        COMMENT ON COLUMN analytics_events.error_type IS
            'Why the request failed (event field error_type); stored whatever the status, counted for status >= 400';

        ALTER TABLE analytics_infra_costs
            ADD COLUMN environment text NOT NULL DEFAULT 'production'
                CHECK (environment IN ('production', 'staging', 'untagged')),
            ADD COLUMN service_tag text,
            ADD COLUMN cost_category text NOT NULL DEFAULT 'other'
                CHECK (cost_category IN ('compute', 'api', 'data_transfer', 'storage', 'other'));
        COMMENT ON COLUMN analytics_infra_costs.environment IS
            'production (tag prod), staging, or untagged (no tag, another value); only production is attributed';
        DROP INDEX analytics_infra_costs_key;
        CREATE UNIQUE INDEX analytics_infra_costs_key ON analytics_infra_costs
            (usage_date, coalesce(organization_id, ''), service, environment, coalesce(service_tag, ''), cost_category);

        ALTER TABLE analytics_tenant_cost_attribution
            ADD COLUMN compute_cost numeric NOT NULL DEFAULT 0,
            ADD COLUMN api_cost numeric NOT NULL DEFAULT 0,
            ADD COLUMN data_transfer_cost numeric NOT NULL DEFAULT 0,
            ADD COLUMN storage_cost numeric NOT NULL DEFAULT 0,
            ADD COLUMN other_cost numeric NOT NULL DEFAULT 0;
        UPDATE analytics_tenant_cost_attribution SET other_cost = direct_cost + shared_cost_exact;

        ALTER TABLE analytics_tenant_profitability
            ADD COLUMN compute_cost numeric(18,2) NOT NULL DEFAULT 0,
            ADD COLUMN api_cost numeric(18,2) NOT NULL DEFAULT 0,
            ADD COLUMN data_transfer_cost numeric(18,2) NOT NULL DEFAULT 0,
            ADD COLUMN storage_cost numeric(18,2) NOT NULL DEFAULT 0,
            ADD COLUMN other_cost numeric(18,2) NOT NULL DEFAULT 0;
        UPDATE analytics_tenant_profitability SET other_cost = attributed_cost;
        ALTER TABLE analytics_tenant_profitability ADD CONSTRAINT analytics_tenant_profitability_categories
            CHECK (compute_cost + api_cost + data_transfer_cost + storage_cost + other_cost = attributed_cost);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE analytics_tenant_profitability DROP CONSTRAINT analytics_tenant_profitability_categories,
            DROP COLUMN compute_cost, DROP COLUMN api_cost, DROP COLUMN data_transfer_cost, DROP COLUMN storage_cost,
            DROP COLUMN other_cost;
        ALTER TABLE analytics_tenant_cost_attribution
            DROP COLUMN compute_cost, DROP COLUMN api_cost, DROP COLUMN data_transfer_cost, DROP COLUMN storage_cost,
            DROP COLUMN other_cost;
        -- Rows that differ only in environment, service tag or category are summed back into one.
        CREATE TEMP TABLE infra_costs_before_0008 ON COMMIT DROP AS
            SELECT usage_date, organization_id, service, sum(amount) AS amount, min(currency) AS currency,
                   bool_or(estimated) AS estimated, min(source) AS source, min(cost_metric) AS cost_metric,
                   min(run_id) AS run_id, max(loaded_at) AS loaded_at
            FROM analytics_infra_costs GROUP BY usage_date, organization_id, service;
        DELETE FROM analytics_infra_costs;
        DROP INDEX analytics_infra_costs_key;
        ALTER TABLE analytics_infra_costs DROP COLUMN environment, DROP COLUMN service_tag, DROP COLUMN cost_category;
        INSERT INTO analytics_infra_costs (usage_date, organization_id, service, amount, currency, estimated, source,
                                           cost_metric, run_id, loaded_at)
            SELECT * FROM infra_costs_before_0008;
        CREATE UNIQUE INDEX analytics_infra_costs_key
            ON analytics_infra_costs (usage_date, coalesce(organization_id, ''), service);
        ALTER TABLE analytics_events DROP COLUMN error_type, DROP COLUMN user_id;
        """
    )
