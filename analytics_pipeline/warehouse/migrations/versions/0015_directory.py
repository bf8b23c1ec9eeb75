"""The directory (issue 22): display names of organizations and models, so pages, the API's ``/usage``
and the CLI show "Acme Corp" and "atlas-large" beside the ids the events carry.

One row per organization (display name, plan, created) and per model (display name, provider,
created), loaded from a directory file (``analytics-pipeline directory load``; the generator writes
one for the demo). ``source`` says where a row came from. The CSV exports keep the seed's schema
(ids only) and never read these tables.

"""

from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_organizations (
            organization_id  text COLLATE "C" PRIMARY KEY,
            display_name     text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
            plan             text,
            created_at       timestamptz,
            source           text        NOT NULL,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE analytics_models (
            model_id         text COLLATE "C" PRIMARY KEY,
            display_name     text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
            provider         text,
            created_at       timestamptz,
            source           text        NOT NULL,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE analytics_models; DROP TABLE analytics_organizations;")
