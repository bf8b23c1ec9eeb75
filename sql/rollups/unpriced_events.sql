-- Models whose events in [range_start, range_end) have no price in effect at their event time
-- (neither their model's nor the '*' default), with the first such event and how many there are.
WITH
{price_periods}
SELECT e.model_id, min(e.event_time) AS first_event_time, count(*) AS events
FROM analytics_events AS e
LEFT JOIN price_periods AS m
       ON m.model_id = e.model_id AND e.event_time >= m.effective_from AND e.event_time < m.effective_to
LEFT JOIN default_price_periods AS d
       ON e.event_time >= d.effective_from AND e.event_time < d.effective_to
WHERE e.event_time >= %(range_start)s AND e.event_time < %(range_end)s
  AND m.model_id IS NULL AND d.model_id IS NULL
GROUP BY e.model_id
ORDER BY first_event_time
