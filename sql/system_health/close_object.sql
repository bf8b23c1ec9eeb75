-- The object's line counts (they add up: a CHECK holds the ledger to it).
UPDATE analytics_metric_stream_objects
SET lines_read = %(lines_read)s, datapoints = %(datapoints)s, duplicates = %(duplicates)s, rejected = %(rejected)s,
    rejections = %(rejections)s
WHERE object_id = %(object_id)s
