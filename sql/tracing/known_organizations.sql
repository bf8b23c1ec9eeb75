-- Every organization with raw events, by a skip scan of the (organization_id, event_time) index: one
-- probe per organization, not a pass over the events (a request id is unique per organization only).
WITH RECURSIVE organizations (organization_id) AS (
    SELECT min(organization_id) FROM analytics_events
    UNION ALL
    SELECT (SELECT min(e.organization_id) FROM analytics_events AS e WHERE e.organization_id > o.organization_id)
    FROM organizations AS o
    WHERE o.organization_id IS NOT NULL
)
SELECT organization_id FROM organizations WHERE organization_id IS NOT NULL
