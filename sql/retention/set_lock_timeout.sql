-- For this transaction only: give up instead of queueing ingestion behind a partition drop.
SELECT set_config('lock_timeout', %(timeout)s, true)
