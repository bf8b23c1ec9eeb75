"""Alembic environment: migrations run on the connection handed over by ``migrate.py``."""

from alembic import context

from analytics_pipeline.warehouse.database import SCHEMA

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table_schema=SCHEMA, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
