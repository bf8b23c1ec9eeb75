-- An object's datapoints; one already stored for the same minute, service and metric (a Firehose
-- redelivery, an overlapping object) is kept as first stored: the caller counts the rest as duplicates.
INSERT INTO analytics_service_minute_metrics (minute, namespace, service, metric_name, unit, sample_max, sample_min,
                                              sample_sum, sample_count, account_id, region, object_id)
SELECT d.*, %(object_id)s
FROM unnest(%(minutes)s::timestamptz[], %(namespaces)s::text[], %(services)s::text[], %(metric_names)s::text[],
            %(units)s::text[], %(maxes)s::float8[], %(mins)s::float8[], %(sums)s::float8[], %(counts)s::float8[],
            %(account_ids)s::text[], %(regions)s::text[]) AS d
ON CONFLICT (minute, namespace, service, metric_name) DO NOTHING
