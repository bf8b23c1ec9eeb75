-- The columns of tables in schema analytics, as the migrations made them, in table order: the
-- source of the column schemas the Dagster UI shows (analytics_pipeline/defs/tables.py).
SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type,
       NOT a.attnotnull AS nullable, col_description(c.oid, a.attnum) AS description
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY c.relname, a.attnum
