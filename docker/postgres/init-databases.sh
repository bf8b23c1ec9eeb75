#!/bin/sh
# The compose stack's databases and roles, created once, when the PostgreSQL volume is first
# initialised (the postgres image runs /docker-entrypoint-initdb.d/ on an empty data directory).
#
#   analytics            the warehouse, owned by role analytics (the pipeline and the export API);
#                        it needs no superuser: migrations create the schema and its objects
#   dagster              Dagster's runs, event logs and schedules, owned by role dagster
#   metabase             Metabase's own settings (the bi profile), owned by role metabase
#   analytics_bi_reader  Metabase's login to the warehouse: migration 0009 grants it SELECT on the
#                        dashboard views only; created here so that it has its password
#
# Each role reaches its own database only. Passwords come from docker/.env through the
# environment and are passed to psql as variables, never written into this file.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v warehouse_password="$WAREHOUSE_DB_PASSWORD" \
    -v dagster_password="$DAGSTER_DB_PASSWORD" \
    -v bi_reader_password="$BI_READER_PASSWORD" \
    -v metabase_password="$METABASE_DB_PASSWORD" <<'SQL'
CREATE ROLE analytics LOGIN PASSWORD :'warehouse_password';
CREATE ROLE dagster LOGIN PASSWORD :'dagster_password';
CREATE ROLE analytics_bi_reader LOGIN PASSWORD :'bi_reader_password';
CREATE ROLE metabase LOGIN PASSWORD :'metabase_password';

CREATE DATABASE analytics OWNER analytics;
CREATE DATABASE dagster OWNER dagster;
CREATE DATABASE metabase OWNER metabase;

-- PUBLIC may connect to every database by default; owners keep their own access.
REVOKE ALL ON DATABASE analytics, dagster, metabase FROM PUBLIC;
GRANT CONNECT ON DATABASE analytics TO analytics_bi_reader;
SQL
