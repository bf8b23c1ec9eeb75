-- Serializes job creation per organization until the transaction ends, so the cap on pending
-- and running jobs and the idempotency-key lookup hold under concurrent requests.
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(organization_id)s))
