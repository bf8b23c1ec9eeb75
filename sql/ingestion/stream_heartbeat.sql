-- This consumer is alive on the stream for one more lease period; consumers gone for a day are forgotten.
WITH forgotten AS (
    DELETE FROM analytics_stream_consumers
    WHERE stream_name = %(stream)s AND alive_until < now() - interval '1 day'
)
INSERT INTO analytics_stream_consumers (stream_name, consumer_id, alive_until)
VALUES (%(stream)s, %(owner)s, now() + make_interval(secs => %(lease_seconds)s))
ON CONFLICT (stream_name, consumer_id) DO UPDATE SET alive_until = excluded.alive_until
