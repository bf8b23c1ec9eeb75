-- The events of the window whose {columns} repeat, among those whose key hashes to one of
-- %(hashes)s (found by delivery_window_repeats.sql): a compound-uniqueness rule's unexpected rows.
SELECT coalesce(sum(n), 0)::bigint
FROM (SELECT count(*) AS n
      FROM ({window}) AS window_events
      WHERE hashtextextended(concat_ws(chr(31), {columns}), 0) = ANY (%(hashes)s::bigint[])
      GROUP BY {columns}
      HAVING count(*) > 1) AS repeated
