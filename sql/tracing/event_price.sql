-- The event's price as the rollups price it (the shared priced_events definition, over the one instant of
-- [range_start, range_end)), and the hourly rollup bucket it counts in. priced_events has no request id:
-- every event of the organization at that instant with the same model and status is returned, and the
-- caller takes the price when they all agree (the same instant, model and tokens price the same).
WITH {priced_events}
SELECT DISTINCT p.cost, r.bucket_start, r.request_count, r.cost_total, r.computed_at
FROM priced_events AS p
LEFT JOIN analytics_hourly_rollups AS r
       ON r.organization_id = p.organization_id
      AND r.bucket_start = date_bin('1 hour', p.event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00')
      AND coalesce(r.model_id, '') = coalesce(p.model_id, '')
WHERE p.organization_id = %(organization_id)s
  AND p.model_id IS NOT DISTINCT FROM %(model_id)s
  AND p.status_code IS NOT DISTINCT FROM %(status_code)s
