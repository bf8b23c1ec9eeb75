-- Shared definition, included by the rollup queries: each event of [range_start, range_end)
-- with its effective token counts and its cost at the price in effect at its event time.
--   tokens_input  = tokens_input, or tokens_consumed when neither input nor output is given
--   tokens_output = tokens_output
--   cost          = per-request + input/1000 x input price + output/1000 x output price,
--                   0 for server errors (status >= 500); model-less or unlisted models use '*';
--                   NULL (never 0) for an event without a price in effect, so a sum over it is
--                   visibly off (the rollups refuse such events before pricing them).
--                   (`* 0.001` is exact; numeric `/ 1000` rounds to ~16 significant digits.)
{price_periods},
priced_events AS (
    SELECT e.event_time, e.organization_id, e.model_id, e.endpoint, e.status_code, e.duration_ms, e.queue_wait_ms,
           t.tokens_input, t.tokens_output,
           CASE WHEN e.status_code >= 500 THEN 0::numeric
                ELSE coalesce(m.price_per_request, d.price_per_request)
                   + t.tokens_input  * coalesce(m.price_per_1k_input_tokens,  d.price_per_1k_input_tokens) * 0.001
                   + t.tokens_output * coalesce(m.price_per_1k_output_tokens, d.price_per_1k_output_tokens) * 0.001
           END AS cost
    FROM analytics_events AS e
    CROSS JOIN LATERAL (
        SELECT coalesce(e.tokens_input,
                        CASE WHEN e.tokens_output IS NULL THEN e.tokens_consumed END, 0)::numeric AS tokens_input,
               coalesce(e.tokens_output, 0)::numeric AS tokens_output
    ) AS t
    LEFT JOIN price_periods AS m
           ON m.model_id = e.model_id AND e.event_time >= m.effective_from AND e.event_time < m.effective_to
    LEFT JOIN default_price_periods AS d
           ON e.event_time >= d.effective_from AND e.event_time < d.effective_to
    WHERE e.event_time >= %(range_start)s AND e.event_time < %(range_end)s
)
