"""The data quality dashboard counts the live paths' deliveries (issue 20).

``analytics_view_data_quality_dashboard`` counted only S3 objects (``source = 'usage_logs'``), so
the lines of ingest API batches, Firehose requests and Kinesis shard ranges were missing from its
health figures. It is installed again from ``sql/views/``: lines of every path, and two columns
appended (``live_batches_loaded``, ``live_accepted``).

"""

from alembic import op

from analytics_pipeline.warehouse.sql import load_sql

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    op.execute(load_sql("views/analytics_view_data_quality_dashboard"))


def downgrade() -> None:
    # sql/views/ holds the view's only definition, which 0008 installs too: nothing older to restore.
    # The appended columns stay; code of earlier revisions reads the view's first columns only.
    pass
