-- Customer-facing dashboard (the memo's section 4: usage, performance, cost breakdown, status), per UTC day
-- and organization (filter on organization_id: one tenant sees its own rows only): requests, tokens, active
-- users, agent invocations and tool calls; p95 latency of the day and its error rates; availability (the share
-- of requests served without a server error); the billed cost and its breakdown by model (JSON).
CREATE OR REPLACE VIEW analytics_view_customer_dashboard AS
WITH usage AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, organization_id,
           sum(request_count) AS request_count, sum(tokens_input) AS tokens_input,
           sum(tokens_output) AS tokens_output, sum(tokens_total) AS tokens_total,
           sum(error_count) AS error_count, sum(server_error_count) AS server_error_count,
           sum(cost_total) AS cost_total,
           jsonb_object_agg(coalesce(model_id, '(no model)'), cost_total) AS cost_by_model
    FROM analytics_daily_rollups
    GROUP BY 1, 2
), agents AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, organization_id, sum(invocations) AS agent_invocations,
           sum(failures) AS agent_failures
    FROM analytics_agent_hourly_metrics
    WHERE organization_id IS NOT NULL
    GROUP BY 1, 2
), tools AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, organization_id, sum(invocations) AS tool_calls
    FROM analytics_tool_hourly_usage
    GROUP BY 1, 2
)
SELECT u.day,
       u.organization_id,
       u.request_count,
       u.tokens_input,
       u.tokens_output,
       u.tokens_total,
       a.active_users,
       coalesce(g.agent_invocations, 0) AS agent_invocations,
       coalesce(g.agent_failures, 0) AS agent_failures,
       coalesce(t.tool_calls, 0) AS tool_calls,
       a.latency_p95_ms,
       round(100.0 * u.error_count / nullif(u.request_count, 0), 3) AS error_rate_pct,
       round(100.0 * (u.request_count - u.server_error_count) / nullif(u.request_count, 0), 3) AS availability_pct,
       u.cost_total,
       u.cost_by_model
FROM usage AS u
LEFT JOIN analytics_org_activity_daily AS a ON a.day = u.day AND a.organization_id = u.organization_id
LEFT JOIN agents AS g ON g.day = u.day AND g.organization_id = u.organization_id
LEFT JOIN tools AS t ON t.day = u.day AND t.organization_id = u.organization_id
