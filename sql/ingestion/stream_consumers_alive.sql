-- Consumers alive on a stream: their heartbeat (renewed every round) has not run out.
SELECT count(*) FROM analytics_stream_consumers WHERE stream_name = %(stream)s AND alive_until > now()
