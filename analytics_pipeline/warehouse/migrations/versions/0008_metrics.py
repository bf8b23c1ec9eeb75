"""Business, customer and SRE metrics (issue 14): end users and error types on the events, cost
attribution true to the environment and service tags, the metrics' tables and the dashboards' views.

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
on profitability, whose categories are cents). Those tables are small (a row per day and
tenant), so the UPDATEs are quick.

The metrics tables (:data:`TABLES`) are new and empty; the metrics assets fill them. The views
(:data:`VIEWS`) are defined once, in ``sql/views/``, and installed from there.

"""

from alembic import op

from analytics_pipeline.warehouse.sql import load_sql

revision = "0008"
down_revision = "0007"

#: The metrics tables, in creation order.
TABLES = (
    "analytics_user_activity_daily", "analytics_org_activity_daily", "analytics_customer_activity_daily",
    "analytics_org_feature_usage_daily", "analytics_feature_adoption_daily", "analytics_customer_health_daily",
    "analytics_monthly_revenue", "analytics_top_customers", "analytics_usage_forecasts",
    "analytics_forecast_backtests", "analytics_endpoint_hourly_metrics", "analytics_error_type_hourly",
    "analytics_agent_hourly_metrics", "analytics_tool_hourly_usage", "analytics_session_hours",
    "analytics_session_concurrency_hourly",
)
#: The first-use view, and one view per dashboard of the SRE memo's section 4 (defined once, in sql/views/; a
#: later change goes in a new migration that runs its CREATE OR REPLACE VIEW), in creation order.
VIEWS = (
    "analytics_view_feature_first_use",
    "analytics_view_business_dashboard",
    "analytics_view_developer_dashboard",
    "analytics_view_data_quality_dashboard",
    "analytics_view_customer_dashboard",
)


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

        -- Activity (daily_activity). A user is an (organization_id, user_id) pair: users belong to their tenant.
        CREATE TABLE analytics_user_activity_daily (
            day              date    NOT NULL,
            organization_id  text    COLLATE "C" NOT NULL,
            user_id          text    COLLATE "C" NOT NULL,
            request_count    bigint  NOT NULL,
            error_count      bigint  NOT NULL,
            tokens_total     bigint  NOT NULL,
            PRIMARY KEY (day, organization_id, user_id)
        );
        COMMENT ON TABLE analytics_user_activity_daily IS
            'Each end user''s requests per UTC day (events with a user_id): the base of DAU, WAU and MAU';

        CREATE TABLE analytics_org_activity_daily (
            day                  date    NOT NULL,
            organization_id      text    COLLATE "C" NOT NULL,
            request_count        bigint  NOT NULL,
            tokens_total         bigint  NOT NULL,
            error_count          bigint  NOT NULL,
            latency_p95_ms       double precision,
            active_users         bigint  NOT NULL,  -- DAU
            wau                  bigint,            -- distinct users of the 7 days through day
            mau                  bigint,            -- distinct users of the 30 days through day
            stickiness           double precision,  -- DAU / MAU
            previous_active_day  date,
            lifecycle            text    CHECK (lifecycle IN ('new', 'returning', 'reactivated')),
            computed_at          timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, organization_id)
        );
        CREATE INDEX analytics_org_activity_daily_org ON analytics_org_activity_daily (organization_id, day);

        CREATE TABLE analytics_customer_activity_daily (
            day                       date    PRIMARY KEY,
            active_customers          bigint  NOT NULL,
            new_customers             bigint  NOT NULL,
            returning_customers       bigint  NOT NULL,  -- active and not new (reactivated included)
            reactivated_customers     bigint  NOT NULL,  -- back after more than churn_inactive_days without activity
            churned_customers         bigint  NOT NULL,  -- whose churn_inactive_days-th day without activity this is
            month_active_customers    bigint  NOT NULL,  -- month to date
            month_new_customers       bigint  NOT NULL,
            month_returning_customers bigint  NOT NULL,
            month_churned_customers   bigint  NOT NULL,  -- active last month, not (yet) this month
            request_count             bigint  NOT NULL,
            dau                       bigint  NOT NULL,
            wau                       bigint  NOT NULL,
            mau                       bigint  NOT NULL,
            stickiness                double precision,
            churn_inactive_days       integer NOT NULL,
            computed_at               timestamptz NOT NULL DEFAULT now()
        );

        -- Feature adoption (feature_adoption): endpoint, agent type and tool, per organization and platform-wide.
        CREATE TABLE analytics_org_feature_usage_daily (
            day              date    NOT NULL,
            feature_kind     text    NOT NULL CHECK (feature_kind IN ('endpoint', 'agent_type', 'tool')),
            feature          text    COLLATE "C" NOT NULL,
            organization_id  text    COLLATE "C" NOT NULL,
            request_count    bigint  NOT NULL,
            users            bigint  NOT NULL,
            PRIMARY KEY (day, feature_kind, feature, organization_id)
        );
        CREATE INDEX analytics_org_feature_usage_daily_first_use
            ON analytics_org_feature_usage_daily (organization_id, feature_kind, feature, day);

        CREATE TABLE analytics_feature_adoption_daily (
            day                   date    NOT NULL,
            feature_kind          text    NOT NULL,
            feature               text    COLLATE "C" NOT NULL,
            organizations         bigint  NOT NULL,
            users                 bigint  NOT NULL,
            request_count         bigint  NOT NULL,
            active_organizations  bigint  NOT NULL,
            organization_share    double precision NOT NULL,  -- organizations / active organizations
            computed_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, feature_kind, feature)
        );

        -- Customer health and churn signals (customer_health).
        CREATE TABLE analytics_customer_health_daily (
            day                   date    NOT NULL,
            organization_id       text    COLLATE "C" NOT NULL,
            score                 integer NOT NULL CHECK (score BETWEEN 0 AND 100),
            band                  text    NOT NULL CHECK (band IN ('healthy', 'at_risk', 'critical')),
            churn_signal          boolean NOT NULL,
            churn_reason          text,
            usage_trend_ratio     double precision,  -- mean daily requests, last 7 days / the 28 before
            week_over_week_ratio  double precision,  -- requests, last 7 days / the 7 before
            error_rate            double precision,  -- last 7 days
            latency_ratio         double precision,  -- p95 against the platform's, last 7 days
            budget_burn           double precision,  -- share of budget spent / share of month elapsed
            days_since_active     integer NOT NULL,
            trend_score           double precision,
            error_score           double precision,
            latency_score         double precision,
            recency_score         double precision NOT NULL,
            budget_score          double precision,
            requests_last_7_days  bigint  NOT NULL,
            computed_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, organization_id)
        );

        -- Revenue, MRR and top customers (monthly).
        CREATE TABLE analytics_monthly_revenue (
            month               date    NOT NULL,
            organization_id     text    COLLATE "C" NOT NULL,
            plan                text,
            usage_revenue       numeric NOT NULL,  -- billed usage at catalog prices (the rollups' cost_total)
            discount_percent    numeric NOT NULL,
            discounted_usage    numeric NOT NULL,
            monthly_commitment  numeric NOT NULL,
            billed_revenue      numeric NOT NULL,  -- max(commitment, discounted usage): the month's MRR
            overage             numeric NOT NULL,
            request_count       bigint  NOT NULL,
            tokens_total        bigint  NOT NULL,
            currency            text    NOT NULL,
            computed_at         timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (month, organization_id),
            CHECK (billed_revenue = greatest(monthly_commitment, discounted_usage))
        );

        CREATE TABLE analytics_top_customers (
            month            date    NOT NULL,
            ranking          text    NOT NULL CHECK (ranking IN ('revenue', 'usage')),
            rank             integer NOT NULL,
            organization_id  text    COLLATE "C" NOT NULL,
            value            numeric NOT NULL,  -- billed revenue, or tokens
            previous_rank    integer,           -- NULL: not ranked the month before
            rank_change      integer,           -- previous_rank - rank: positive moved up
            computed_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (month, ranking, organization_id)
        );

        -- Month-end forecasts (usage_forecasts); organization_id NULL is the platform.
        CREATE TABLE analytics_usage_forecasts (
            as_of               date    NOT NULL,
            organization_id     text    COLLATE "C",
            month               date    NOT NULL,
            days_elapsed        integer NOT NULL,
            days_in_month       integer NOT NULL,
            requests_to_date    bigint  NOT NULL,
            requests_forecast   bigint  NOT NULL,
            requests_run_rate   bigint  NOT NULL,
            tokens_to_date      bigint  NOT NULL,
            tokens_forecast     bigint  NOT NULL,
            tokens_run_rate     bigint  NOT NULL,
            cost_to_date        numeric NOT NULL,
            cost_forecast       numeric NOT NULL,
            cost_run_rate       numeric NOT NULL,
            computed_at         timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX analytics_usage_forecasts_key
            ON analytics_usage_forecasts (as_of, coalesce(organization_id, ''));

        CREATE TABLE analytics_forecast_backtests (
            as_of           date    NOT NULL,
            metric          text    NOT NULL CHECK (metric IN ('requests', 'tokens', 'cost')),
            seasonal_mape   double precision,
            run_rate_mape   double precision,
            seasonal_wape   double precision,
            run_rate_wape   double precision,
            cases           integer NOT NULL,
            origins         integer NOT NULL,
            computed_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (as_of, metric)
        );

        -- SRE, hourly; organization_id NULL is every organization together.
        CREATE TABLE analytics_endpoint_hourly_metrics (
            bucket_start               timestamptz NOT NULL,
            organization_id            text    COLLATE "C",
            endpoint                   text    COLLATE "C" NOT NULL,  -- '(none)' for events without one
            request_count              bigint  NOT NULL,
            status_2xx                 bigint  NOT NULL,
            status_3xx                 bigint  NOT NULL,
            status_4xx                 bigint  NOT NULL,
            status_5xx                 bigint  NOT NULL,
            status_unknown             bigint  NOT NULL,  -- no status_code (or 1xx)
            rate_limited_count         bigint  NOT NULL,  -- 429
            latency_p50_ms             double precision,
            latency_p95_ms             double precision,
            latency_p99_ms             double precision,
            queue_wait_p50_ms          double precision,
            queue_wait_p95_ms          double precision,
            queue_wait_p99_ms          double precision,
            error_types_on_non_errors  bigint  NOT NULL,  -- data quality: an error_type with status < 400 or none
            computed_at                timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX analytics_endpoint_hourly_metrics_key
            ON analytics_endpoint_hourly_metrics (bucket_start, coalesce(organization_id, ''), endpoint);

        CREATE TABLE analytics_error_type_hourly (
            bucket_start     timestamptz NOT NULL,
            organization_id  text    COLLATE "C",
            endpoint         text    COLLATE "C" NOT NULL,
            status_class     text    NOT NULL CHECK (status_class IN ('4xx', '5xx')),
            error_type       text    COLLATE "C" NOT NULL,  -- '(unspecified)' for errors without one
            error_count      bigint  NOT NULL
        );
        CREATE UNIQUE INDEX analytics_error_type_hourly_key ON analytics_error_type_hourly
            (bucket_start, coalesce(organization_id, ''), endpoint, status_class, error_type);

        CREATE TABLE analytics_agent_hourly_metrics (
            bucket_start     timestamptz NOT NULL,
            organization_id  text    COLLATE "C",
            agent_type       text    COLLATE "C" NOT NULL,
            invocations      bigint  NOT NULL,
            failures         bigint  NOT NULL,  -- status >= 400
            server_failures  bigint  NOT NULL,  -- status >= 500
            duration_p50_ms  double precision,
            duration_p95_ms  double precision,
            duration_p99_ms  double precision,
            computed_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX analytics_agent_hourly_metrics_key
            ON analytics_agent_hourly_metrics (bucket_start, coalesce(organization_id, ''), agent_type);

        CREATE TABLE analytics_tool_hourly_usage (
            bucket_start     timestamptz NOT NULL,
            organization_id  text    COLLATE "C" NOT NULL,
            tool_name        text    COLLATE "C" NOT NULL,
            invocations      bigint  NOT NULL,
            failures         bigint  NOT NULL,
            users            bigint  NOT NULL,
            duration_p95_ms  double precision,
            computed_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (bucket_start, organization_id, tool_name)
        );

        -- Sessions: each session's first and last event of each hour, and peak concurrency per hour.
        CREATE TABLE analytics_session_hours (
            bucket_start     timestamptz NOT NULL,
            organization_id  text    COLLATE "C" NOT NULL,
            session_id       text    COLLATE "C" NOT NULL,
            first_event_at   timestamptz NOT NULL,
            last_event_at    timestamptz NOT NULL,
            events           bigint  NOT NULL,
            PRIMARY KEY (bucket_start, organization_id, session_id)
        );
        CREATE TABLE analytics_session_concurrency_hourly (
            bucket_start              timestamptz NOT NULL,
            organization_id           text    COLLATE "C" NOT NULL,
            sessions                  bigint  NOT NULL,  -- sessions open at some moment of the hour
            peak_concurrent_sessions  bigint  NOT NULL,
            peak_at                   timestamptz NOT NULL,
            computed_at               timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (bucket_start, organization_id)
        );
        """
    )
    for view in VIEWS:
        op.execute(load_sql(f"views/{view}"))


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute(f"DROP TABLE {', '.join(reversed(TABLES))}")
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
