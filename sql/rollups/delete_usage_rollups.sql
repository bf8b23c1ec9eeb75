DELETE FROM {rollup_table}
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
