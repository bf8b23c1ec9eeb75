-- One organization of a directory file: its display name, plan and creation time (the file's values win).
INSERT INTO analytics_organizations (organization_id, display_name, plan, created_at, source, updated_at)
VALUES (%(organization_id)s, %(display_name)s, %(plan)s, %(created_at)s, %(source)s, now())
ON CONFLICT (organization_id) DO UPDATE
SET display_name = EXCLUDED.display_name, plan = EXCLUDED.plan, created_at = EXCLUDED.created_at,
    source = EXCLUDED.source, updated_at = now()
