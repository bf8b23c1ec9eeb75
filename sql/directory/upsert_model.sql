-- One model of a directory file: its display name, provider and creation time (the file's values win).
INSERT INTO analytics_models (model_id, display_name, provider, created_at, source, updated_at)
VALUES (%(model_id)s, %(display_name)s, %(provider)s, %(created_at)s, %(source)s, now())
ON CONFLICT (model_id) DO UPDATE
SET display_name = EXCLUDED.display_name, provider = EXCLUDED.provider, created_at = EXCLUDED.created_at,
    source = EXCLUDED.source, updated_at = now()
