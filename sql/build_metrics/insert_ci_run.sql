-- Claim the run_id for the first file that carries it. When a row already holds it, nothing
-- is inserted and the loader classifies the file as a duplicate (same content_hash) or a
-- conflicting duplicate (different content).
INSERT INTO analytics_ci_runs (
    run_id, service, command, status, started_at, finished_at, duration_seconds, commit_sha,
    actor, actor_hash, environment, collector_version, attributes, content_hash, file_date, object_id)
VALUES (
    %(run_id)s, %(service)s, %(command)s, %(status)s, %(started_at)s, %(finished_at)s, %(duration_seconds)s,
    %(commit_sha)s, %(actor)s, %(actor_hash)s, %(environment)s, %(collector_version)s, %(attributes)s::jsonb,
    %(content_hash)s, %(file_date)s, %(object_id)s)
ON CONFLICT (run_id) DO NOTHING
RETURNING run_id
