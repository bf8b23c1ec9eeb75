-- Rows of a table older than a cutoff. {table} and {time_column} are fixed by the caller.
SELECT count(*), min({time_column}), max({time_column})
FROM {table}
WHERE {time_column} < %(cutoff)s
