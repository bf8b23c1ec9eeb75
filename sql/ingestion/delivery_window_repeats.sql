-- Compound uniqueness of {columns} over the window's events, in two steps. This one: the 64-bit
-- hashes of the key that occur more than once. A hash aggregate over one machine word a row runs
-- about twice as fast as grouping the texts; a repeated hash is a repeated key or, rarely, a
-- collision, which delivery_window_repeated_keys.sql then tells apart by the keys themselves.
SELECT h
FROM (SELECT hashtextextended(concat_ws(chr(31), {columns}), 0) AS h FROM ({window}) AS window_events) AS hashed
GROUP BY h
HAVING count(*) > 1
