-- Each partition's own figures, read from the table an asset writes (defs/tables.py): the rows whose
-- time column falls in the partition's window, and aggregates of some of their columns ({figures},
-- each maybe filtered to the rows it describes, e.g. the platform-wide rows beside per-organization ones).
SELECT w.partition_key, count(t.{time_column}) AS row_count{figures}
FROM unnest(%(keys)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[])
         AS w(partition_key, window_start, window_end)
LEFT JOIN {table} AS t ON t.{time_column} >= w.window_start AND t.{time_column} < w.window_end
GROUP BY w.partition_key
