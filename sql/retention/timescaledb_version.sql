-- The TimescaleDB extension's version, when it is installed in this database.
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
