-- What the raw events say per organization for a range (optionally one organization), each
-- event priced on its own at the price in effect at its time (the priced_events fragment the
-- rollup checks use): what hourly exports (made from the hourly rollups, which price per hour
-- and model) reconcile against.
WITH
{priced_events}
SELECT organization_id,
       count(*)::bigint, coalesce(sum(tokens_input + tokens_output), 0)::bigint,
       (count(*) FILTER (WHERE status_code >= 400))::bigint, coalesce(sum(cost), 0)
FROM priced_events
WHERE (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
GROUP BY organization_id
