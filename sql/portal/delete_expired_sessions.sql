-- Sessions that expired (or ended) more than a day before %(now)s: nothing reads them any more.
DELETE FROM analytics_portal_sessions
WHERE expires_at < %(now)s - interval '1 day'
   OR ended_at < %(now)s - interval '1 day'
