-- What became of one attempt: delivered, given up (the receiver refused it), or retried at next_attempt_at.
UPDATE analytics_alert_outbox
SET attempts = attempts + 1, last_status = %(status)s, last_error = %(error)s,
    delivered_at = %(delivered_at)s, given_up_at = %(given_up_at)s, next_attempt_at = %(next_attempt_at)s
WHERE outbox_id = %(outbox_id)s
