"""A read-only role for BI tools: SELECT on the dashboard views (``sql/views``) and nothing else.

``analytics_bi_reader`` may read every ``analytics_view_*`` view and no table: a view runs
with its owner's privileges, so Metabase sees the views' columns and never a raw event, an
API key or the ingest ledger. The role is created ``LOGIN`` without a password when it does not
exist (it cannot sign in with a password until an administrator sets one; the compose stack's
``docker/postgres/init-databases.sh`` creates it first, with its password from ``docker/.env``).
Creating it needs ``CREATEROLE``; a migrating user without it gets an error saying what to do.

Roles belong to the server, not the database: the downgrade revokes this database's grants
and leaves the role (other databases of the server may still grant to it). A later migration
that drops and re-creates a view (as 0006 did) must grant it again;
``analytics_pipeline_tests/warehouse/test_bi_role.py`` fails otherwise.

"""

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics_bi_reader') THEN
                BEGIN
                    CREATE ROLE analytics_bi_reader LOGIN;
                EXCEPTION
                WHEN duplicate_object THEN
                    NULL;  -- created meanwhile by a migration of another database on this server
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role analytics_bi_reader does not exist and % may not create roles', current_user
                        USING HINT = 'An administrator runs CREATE ROLE analytics_bi_reader LOGIN PASSWORD ..., '
                                     'then analytics-pipeline db upgrade runs again.';
                END;
            END IF;
        END $$;

        GRANT USAGE ON SCHEMA analytics TO analytics_bi_reader;

        DO $$
        DECLARE
            view_name text;
        BEGIN
            FOR view_name IN
                SELECT viewname FROM pg_views WHERE schemaname = 'analytics' AND viewname LIKE 'analytics\\_view\\_%'
            LOOP
                EXECUTE format('GRANT SELECT ON analytics.%I TO analytics_bi_reader', view_name);
            END LOOP;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE
            view_name text;
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics_bi_reader') THEN
                RETURN;
            END IF;
            FOR view_name IN
                SELECT viewname FROM pg_views WHERE schemaname = 'analytics' AND viewname LIKE 'analytics\\_view\\_%'
            LOOP
                EXECUTE format('REVOKE ALL ON analytics.%I FROM analytics_bi_reader', view_name);
            END LOOP;
            REVOKE ALL ON SCHEMA analytics FROM analytics_bi_reader;
        END $$;
        """
    )
