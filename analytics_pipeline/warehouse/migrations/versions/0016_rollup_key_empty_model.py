"""Usage rollups keep a model_id of "" apart from a missing one (issue 23).

The event contract accepts ``model_id: ""`` beside no model_id at all, the rollups group them apart
(exports show "" and "(none)"), but the unique keys of the hourly and daily rollups were on
``coalesce(model_id, '')``: an hour with both failed on a duplicate key. The keys now also hold
``model_id IS NULL``. (``NULLS NOT DISTINCT`` would say the same, but needs PostgreSQL 15; the
warehouse supports 14.) A downgrade fails while a bucket holds both, as the old key would refuse it.

"""

from alembic import op

revision = "0016"
down_revision = "0015"

ROLLUP_TABLES = ("analytics_hourly_rollups", "analytics_daily_rollups")


def upgrade() -> None:
    for table in ROLLUP_TABLES:
        op.execute(f"DROP INDEX {table}_key")
        op.execute(f"CREATE UNIQUE INDEX {table}_key "
                   f"ON {table} (bucket_start, organization_id, coalesce(model_id, ''), (model_id IS NULL))")


def downgrade() -> None:
    for table in ROLLUP_TABLES:
        op.execute(f"DROP INDEX {table}_key")
        op.execute(f"CREATE UNIQUE INDEX {table}_key "
                   f"ON {table} (bucket_start, organization_id, coalesce(model_id, ''))")
