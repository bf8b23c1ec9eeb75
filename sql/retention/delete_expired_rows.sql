-- Delete a table's rows older than a cutoff. {table} and {time_column} are fixed by the caller.
WITH deleted AS (
    DELETE FROM {table} WHERE {time_column} < %(cutoff)s RETURNING {time_column} AS moment
)
SELECT count(*), min(moment), max(moment) FROM deleted
