-- A day's archive, written and verified; a re-archive (late events) replaces the row.
INSERT INTO analytics_raw_archives
    (day, location, object_key, row_count, sha256, bytes, archived_at, verified_at)
VALUES
    (%(day)s, %(location)s, %(object_key)s, %(row_count)s, %(sha256)s, %(bytes)s, %(archived_at)s, now())
ON CONFLICT (day) DO UPDATE SET
    location = EXCLUDED.location, object_key = EXCLUDED.object_key, row_count = EXCLUDED.row_count,
    sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, archived_at = EXCLUDED.archived_at,
    verified_at = EXCLUDED.verified_at, dropped_at = NULL
RETURNING verified_at
