"""The export API: API keys, the audit trail, and what export jobs need to be served over HTTP.

* ``analytics_api_keys``: one row per key, ``ak_<key_id>_<secret>``; only the SHA-256 of the
  secret is stored. A key is scoped to one organization, or (``scope = 'finance'``) to all.
* ``analytics_api_audit``: every create, download and refused request (never a secret).
* ``analytics_export_jobs`` gains the idempotency key of the POST that made it (unique per
  organization), a fingerprint of the request it stood for, the API key that made it, and
  the end as the requester wrote it (an inclusive ``...23:59:59Z`` is stored exclusive in
  ``range_end``). The keyset indexes serve the newest-first listing, with or without a status
  filter; the partial indexes serve the per-organization cap and the sensor's pending scan.

"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_api_keys (
            key_id          text        PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{12}$'),
            secret_sha256   bytea       NOT NULL CHECK (length(secret_sha256) = 32),
            name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            scope           text        NOT NULL CHECK (scope IN ('organization', 'finance')),
            organization_id text,
            created_at      timestamptz NOT NULL,
            expires_at      timestamptz,
            revoked_at      timestamptz,
            CHECK ((scope = 'organization') = (organization_id IS NOT NULL)),
            CHECK (expires_at IS NULL OR expires_at > created_at)
        );
        COMMENT ON TABLE analytics_api_keys IS
            'Export API keys (ak_<key_id>_<secret>): only sha256(secret) stored; finance scope reads all organizations';

        CREATE TABLE analytics_api_audit (
            audit_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at              timestamptz NOT NULL,
            key_id          text,
            organization_id text,
            action          text        NOT NULL,
            job_id          uuid,
            client_address  text,
            status_code     integer     NOT NULL,
            outcome         text        NOT NULL
        );
        CREATE INDEX analytics_api_audit_at ON analytics_api_audit USING brin (at);
        CREATE INDEX analytics_api_audit_org ON analytics_api_audit (organization_id, at);
        COMMENT ON TABLE analytics_api_audit IS
            'Every export created or downloaded and every refused request of the export API (never a secret)';

        ALTER TABLE analytics_export_jobs
            ADD COLUMN idempotency_key text,
            ADD COLUMN request_fingerprint text,
            ADD COLUMN api_key_id text,
            ADD COLUMN requested_end timestamptz;
        COMMENT ON COLUMN analytics_export_jobs.requested_end IS
            'The end as requested (e.g. inclusive 23:59:59Z); range_end is the exclusive end exported';
        CREATE UNIQUE INDEX analytics_export_jobs_idempotency
            ON analytics_export_jobs (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
        DROP INDEX analytics_export_jobs_org;
        CREATE INDEX analytics_export_jobs_org ON analytics_export_jobs (organization_id, created_at, job_id);
        CREATE INDEX analytics_export_jobs_org_status
            ON analytics_export_jobs (organization_id, status, created_at, job_id);
        CREATE INDEX analytics_export_jobs_active
            ON analytics_export_jobs (organization_id) WHERE status IN ('pending', 'running');
        CREATE INDEX analytics_export_jobs_pending
            ON analytics_export_jobs (created_at) WHERE status = 'pending';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX analytics_export_jobs_pending;
        DROP INDEX analytics_export_jobs_active;
        DROP INDEX analytics_export_jobs_org_status;
        DROP INDEX analytics_export_jobs_org;
        CREATE INDEX analytics_export_jobs_org ON analytics_export_jobs (organization_id, created_at);
        DROP INDEX analytics_export_jobs_idempotency;
        ALTER TABLE analytics_export_jobs
            DROP COLUMN requested_end,
            DROP COLUMN api_key_id,
            DROP COLUMN request_fingerprint,
            DROP COLUMN idempotency_key;
        DROP TABLE analytics_api_audit;
        DROP TABLE analytics_api_keys;
        """
    )
