-- The oldest delivery due, locked for the sending transaction; rows another dispatcher holds are skipped,
-- and a row waits while an earlier notification of the same alert to the same receiver is undelivered (a
-- resolve never overtakes its trigger).
SELECT o.outbox_id, o.route, o.dedup_key, o.action, o.payload, o.attempts
FROM analytics_alert_outbox AS o
WHERE o.delivered_at IS NULL AND o.given_up_at IS NULL AND o.next_attempt_at <= %(now)s
  AND NOT EXISTS (
      SELECT 1 FROM analytics_alert_outbox AS earlier
      WHERE earlier.dedup_key = o.dedup_key AND earlier.route = o.route AND earlier.outbox_id < o.outbox_id
        AND earlier.delivered_at IS NULL AND earlier.given_up_at IS NULL)
ORDER BY o.next_attempt_at, o.outbox_id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
